-- SQL errors: names that do not exist, syntax errors (with their position), type errors,
-- overflow and division by zero at run time, aggregates without GROUP BY keys.

-- query
SELECT nope FROM cpu
-- expect 400
{"error":"column 'nope' not found in table 'cpu'"}

-- query
SELECT * FROM nope
-- expect 400
{"error":"table 'nope' not found"}

-- query
SELECT * FORM cpu
-- expect 400
{"error":"syntax error at line 1, column 10: expected FROM, found 'FORM'"}

-- query
SELECT host, FROM cpu
-- expect 400
{"error":"syntax error at line 1, column 14: expected a column name, an expression or '*', found 'FROM'"}

-- query
SELECT count + 1 FROM cpu WHERE host = 'c'
-- expect 400
{"error":"integer overflow at line 1, column 8"}

-- query
SELECT sum(count) FROM cpu
-- expect 400
{"error":"integer overflow in sum()"}

-- query
SELECT free + 1 FROM mem WHERE host = 'a'
-- expect 400
{"error":"integer overflow at line 1, column 8"}

-- query
SELECT sum(free) FROM mem
-- expect 400
{"error":"integer overflow in sum()"}

-- query
SELECT count / 0 FROM cpu
-- expect 400
{"error":"division by zero at line 1, column 8"}

-- query
SELECT host FROM cpu WHERE usage_user = 'x'
-- expect 400
{"error":"cannot compare column 'usage_user' (float) with string 'x'"}

-- query
SELECT desc FROM weather
-- expect 400
{"error":"syntax error at line 1, column 8: expected an expression, found 'desc'"}

-- query
SELECT host, count(*) FROM cpu
-- expect 400
{"error":"column 'host' must appear in the GROUP BY clause or be used in an aggregate function at line 1, column 8"}

-- query
SELECT * FROM cpu LIMIT -1
-- expect 400
{"error":"syntax error at line 1, column 25: expected a non-negative integer, found '-'"}

-- query
SELECT 'unterminated FROM cpu
-- expect 400
{"error":"syntax error at line 1, column 8: unterminated string literal"}

-- query
SELECT * FROM cpu WHERE time > 'not a time'
-- expect 400
{
  "error":"invalid timestamp 'not a time' compared with column 'time': expected an RFC 3339 date-time such as '2024-01-01T00:00:00Z'"
}

-- query
SELECT nosuchfn(usage_user) FROM cpu
-- expect 400
{"error":"unknown function 'nosuchfn' at line 1, column 8"}
