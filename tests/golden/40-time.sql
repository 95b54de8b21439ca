-- SQL time: date_bin with and without an origin, date_trunc, interval arithmetic, time ranges
-- with RFC 3339 literals, times before 1970.

-- query
SELECT date_bin(INTERVAL '2 minutes', time) AS bucket, count(*) FROM cpu GROUP BY 1 ORDER BY 1
-- expect
[
  {"bucket":"2024-01-01T00:00:00","count(*)":6},
  {"bucket":"2024-01-01T00:02:00","count(*)":3},
  {"bucket":"2024-01-01T00:04:00","count(*)":3}
]

-- query
SELECT date_trunc('hour', time) AS h, count(*) FROM weather GROUP BY 1 ORDER BY 1
-- expect
[
  {"h":"2024-01-01T00:00:00","count(*)":2},
  {"h":"2024-01-01T01:00:00","count(*)":1},
  {"h":"2024-01-02T00:00:00","count(*)":1}
]

-- query
SELECT date_trunc('day', time) AS d, avg(temp) FROM weather GROUP BY 1 ORDER BY 1
-- expect
[{"d":"2024-01-01T00:00:00","avg(weather.temp)":3.75},{"d":"2024-01-02T00:00:00","avg(weather.temp)":0.5}]

-- query
SELECT host, date_bin(INTERVAL '5 minutes', time, TIMESTAMP '2024-01-01T00:01:00Z') AS b, max(usage_user) FROM cpu GROUP BY host, b ORDER BY host, b
-- expect
[
  {"host":"a","b":"2023-12-31T23:56:00","max(cpu.usage_user)":10.5},
  {"host":"a","b":"2024-01-01T00:01:00","max(cpu.usage_user)":13},
  {"host":"b","b":"2023-12-31T23:56:00","max(cpu.usage_user)":50},
  {"host":"b","b":"2024-01-01T00:01:00","max(cpu.usage_user)":55.5},
  {"host":"c","b":"2023-12-31T23:56:00","max(cpu.usage_user)":0},
  {"host":"c","b":"2024-01-01T00:01:00","max(cpu.usage_user)":100},
  {"host":"d","b":"2024-01-01T00:01:00","max(cpu.usage_user)":20}
]

-- query
SELECT time, time + INTERVAL '1 hour' AS later FROM events ORDER BY time LIMIT 2
-- expect
[
  {"time":"1969-12-31T00:00:00","later":"1969-12-31T01:00:00"},
  {"time":"2024-01-01T00:00:00","later":"2024-01-01T01:00:00"}
]

-- query
SELECT time, msg FROM events WHERE time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T00:01:00Z' ORDER BY time
-- expect
[{"time":"2024-01-01T00:00:00","msg":"boot"},{"time":"2024-01-01T00:00:30","msg":"warn: disk"}]

-- query
SELECT date_trunc('month', time) AS m, count(*) FROM events GROUP BY 1 ORDER BY 1
-- expect
[{"m":"1969-12-01T00:00:00","count(*)":1},{"m":"2024-01-01T00:00:00","count(*)":4}]

-- query
SELECT min(time), max(time) FROM cpu
-- expect
[{"min(cpu.time)":"2024-01-01T00:00:00","max(cpu.time)":"2024-01-01T00:05:00"}]

-- query
SELECT host, max(time) AS last_seen FROM cpu GROUP BY host ORDER BY last_seen DESC, host
-- expect
[
  {"host":"c","last_seen":"2024-01-01T00:05:00"},
  {"host":"a","last_seen":"2024-01-01T00:04:00"},
  {"host":"b","last_seen":"2024-01-01T00:04:00"},
  {"host":"d","last_seen":"2024-01-01T00:01:00"}
]

-- query
SELECT time, date_trunc('minute', time) AS m FROM events WHERE level = 3
-- expect
[{"time":"2024-01-01T00:00:30","m":"2024-01-01T00:00:00"}]

-- query
SELECT count(*) FROM cpu WHERE time >= TIMESTAMP '2024-01-01T00:00:00Z' + INTERVAL '3 minutes'
-- expect
[{"count(*)":4}]
