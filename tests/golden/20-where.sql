-- SQL WHERE: every operator, tags, fields of each type, NULLs (three-valued logic), time
-- ranges, the rows the second write changed.

-- query
SELECT host, time, usage_user FROM cpu WHERE usage_user > 10 AND ok ORDER BY host, time
-- expect
[
  {"host":"a","time":"2024-01-01T00:00:00","usage_user":10.5},
  {"host":"a","time":"2024-01-01T00:01:00","usage_user":13},
  {"host":"b","time":"2024-01-01T00:02:00","usage_user":52}
]

-- query
SELECT host, usage_user FROM cpu WHERE usage_user BETWEEN 10 AND 13 ORDER BY host, time
-- expect
[{"host":"a","usage_user":10.5},{"host":"a","usage_user":13},{"host":"a","usage_user":11.25}]

-- query
SELECT host, time FROM cpu WHERE region IS NULL ORDER BY time
-- expect
[{"host":"c","time":"2024-01-01T00:00:00"},{"host":"c","time":"2024-01-01T00:05:00"}]

-- query
SELECT host, time FROM cpu WHERE host <> 'a' AND region = 'eu' ORDER BY host, time
-- expect
[
  {"host":"b","time":"2024-01-01T00:00:00"},
  {"host":"b","time":"2024-01-01T00:01:00"},
  {"host":"b","time":"2024-01-01T00:02:00"},
  {"host":"b","time":"2024-01-01T00:04:00"},
  {"host":"d","time":"2024-01-01T00:01:00"}
]

-- query
SELECT host, note FROM cpu WHERE note LIKE 's%' ORDER BY time
-- expect
[{"host":"a","note":"start"},{"host":"a","note":"spike"}]

-- query
SELECT host, note FROM cpu WHERE note ~ '^[a-z]+$' ORDER BY host, time
-- expect
[{"host":"a","note":"start"},{"host":"a","note":"spike"},{"host":"b","note":"busy"},{"host":"b","note":"neg"}]

-- query
SELECT host, time, ok FROM cpu WHERE NOT ok ORDER BY host, time
-- expect
[
  {"host":"a","time":"2024-01-01T00:02:00","ok":false},
  {"host":"b","time":"2024-01-01T00:00:00","ok":false},
  {"host":"b","time":"2024-01-01T00:01:00","ok":false}
]

-- query
SELECT host, time FROM cpu WHERE ok IS NULL ORDER BY host, time
-- expect
[{"host":"c","time":"2024-01-01T00:05:00"},{"host":"d","time":"2024-01-01T00:01:00"}]

-- query
SELECT host, time FROM cpu WHERE usage_user IS NULL OR usage_system IS NULL ORDER BY host, time
-- expect
[
  {"host":"a","time":"2024-01-01T00:02:00"},
  {"host":"c","time":"2024-01-01T00:00:00"},
  {"host":"c","time":"2024-01-01T00:05:00"},
  {"host":"d","time":"2024-01-01T00:01:00"}
]

-- query
SELECT host, time FROM cpu WHERE NOT (usage_user > 10) ORDER BY host, time
-- expect
[
  {"host":"a","time":"2024-01-01T00:03:00"},
  {"host":"a","time":"2024-01-01T00:04:00"},
  {"host":"b","time":"2024-01-01T00:04:00"},
  {"host":"c","time":"2024-01-01T00:00:00"}
]

-- query
SELECT host, time FROM cpu WHERE time >= '2024-01-01T00:02:00Z' AND time < '2024-01-01T00:05:00Z' ORDER BY time, host
-- expect
[
  {"host":"a","time":"2024-01-01T00:02:00"},
  {"host":"b","time":"2024-01-01T00:02:00"},
  {"host":"a","time":"2024-01-01T00:03:00"},
  {"host":"a","time":"2024-01-01T00:04:00"},
  {"host":"b","time":"2024-01-01T00:04:00"}
]

-- query
SELECT host, time FROM cpu WHERE time > TIMESTAMP '2024-01-01 00:04:00' ORDER BY time
-- expect
[{"host":"c","time":"2024-01-01T00:05:00"}]

-- query
SELECT host, free FROM mem WHERE free > 1000 ORDER BY free
-- expect
[{"host":"a","free":1024},{"host":"b","free":4096},{"host":"a","free":18446744073709551615}]

-- query
SELECT host, time FROM mem WHERE free = 18446744073709551615
-- expect
[{"host":"a","time":"2024-01-01T00:01:00"}]

-- query
SELECT host, used FROM mem WHERE used < 0
-- expect
[{"host":"b","used":-7}]

-- query
SELECT host, temp FROM cpu WHERE temp > 40 ORDER BY temp
-- expect
[{"host":"a","temp":40.5},{"host":"d","temp":55}]

-- query
SELECT host, time, usage_user FROM cpu WHERE usage_user = 13
-- expect
[{"host":"a","time":"2024-01-01T00:01:00","usage_user":13}]

-- query
SELECT host, time, usage_user, ok FROM cpu WHERE host = 'b' AND time = '2024-01-01T00:02:00Z'
-- expect
[{"host":"b","time":"2024-01-01T00:02:00","usage_user":52,"ok":true}]

-- query
SELECT time, msg FROM events WHERE time < '1970-01-01T00:00:00Z'
-- expect
[{"time":"1969-12-31T00:00:00","msg":"ancient"}]

-- query
SELECT host, count FROM cpu WHERE count > 9007199254740992
-- expect
[{"host":"c","count":9223372036854775807}]

-- query
SELECT city, temp FROM weather WHERE city ILIKE 'new%' ORDER BY time
-- expect
[{"city":"New York","temp":3.5},{"city":"New York","temp":-2.25}]

-- query
SELECT city FROM weather WHERE rain = false ORDER BY city, time
-- expect
[{"city":"New York"},{"city":"Zürich"}]

-- query
SELECT host, time FROM cpu WHERE host IN ('a', 'd') AND temp IS NOT NULL ORDER BY time
-- expect
[{"host":"d","time":"2024-01-01T00:01:00"},{"host":"a","time":"2024-01-01T00:04:00"}]

-- query
SELECT host FROM cpu WHERE host NOT IN ('a', 'b') AND note !~ 'x' ORDER BY host
-- expect
[{"host":"c"}]

-- query
SELECT count(*) FROM cpu WHERE usage_user > 1e9
-- expect
[{"count(*)":0}]
