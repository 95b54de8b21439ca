-- SQL aggregates: without and with GROUP BY (tags, fields, NULL keys), HAVING, DISTINCT,
-- first/last values and InfluxDB 3's selectors, empty inputs.

-- query
SELECT count(*) FROM cpu
-- expect
[{"count(*)":12}]

-- query
SELECT count(usage_user), count(usage_system), count(note), count(temp), count(ok) FROM cpu
-- expect
[{"count(cpu.usage_user)":12,"count(cpu.usage_system)":8,"count(cpu.note)":6,"count(cpu.temp)":2,"count(cpu.ok)":10}]

-- query
SELECT host, count(*), sum(count), avg(usage_user), min(usage_user), max(usage_user) FROM cpu GROUP BY host ORDER BY host
-- expect
[
  {
    "host":"a",
    "count(*)":5,
    "sum(cpu.count)":15,
    "avg(cpu.usage_user)":10.6,
    "min(cpu.usage_user)":8.5,
    "max(cpu.usage_user)":13
  },
  {
    "host":"b",
    "count(*)":4,
    "sum(cpu.count)":20,
    "avg(cpu.usage_user)":39,
    "min(cpu.usage_user)":-1.5,
    "max(cpu.usage_user)":55.5
  },
  {
    "host":"c",
    "count(*)":2,
    "sum(cpu.count)":9223372036854775807,
    "avg(cpu.usage_user)":50,
    "min(cpu.usage_user)":0,
    "max(cpu.usage_user)":100
  },
  {
    "host":"d",
    "count(*)":1,
    "sum(cpu.count)":7,
    "avg(cpu.usage_user)":20,
    "min(cpu.usage_user)":20,
    "max(cpu.usage_user)":20
  }
]

-- query
SELECT region, count(*) AS n FROM cpu GROUP BY region ORDER BY region NULLS LAST
-- expect
[{"region":"eu","n":5},{"region":"us","n":5},{"n":2}]

-- query
SELECT host, sum(count) AS s FROM cpu GROUP BY host HAVING sum(count) > 10 ORDER BY 2 DESC
-- expect
[{"host":"c","s":9223372036854775807},{"host":"b","s":20},{"host":"a","s":15}]

-- query
SELECT stddev(usage_user), var_pop(usage_user), median(usage_user) FROM cpu WHERE host = 'a'
-- expect
[
  {
    "stddev(cpu.usage_user)":1.682631867046384,
    "var_pop(cpu.usage_user)":2.2649999999999997,
    "median(cpu.usage_user)":10.5
  }
]

-- query
SELECT approx_percentile_cont(usage_user, 0.5) AS p50, approx_percentile_cont(usage_user, 0.9) AS p90 FROM cpu
-- expect
[{"p50":12.125,"p90":55.15}]

-- query
SELECT count(DISTINCT host), count(DISTINCT region) FROM cpu
-- expect
[{"count(DISTINCT cpu.host)":4,"count(DISTINCT cpu.region)":2}]

-- query
SELECT host, first_value(usage_user ORDER BY time) AS first, last_value(usage_user ORDER BY time) AS last FROM cpu GROUP BY host ORDER BY host
-- expect
[
  {"host":"a","first":10.5,"last":8.5},
  {"host":"b","first":50,"last":-1.5},
  {"host":"c","first":0,"last":100},
  {"host":"d","first":20,"last":20}
]

-- query
SELECT selector_max(usage_user, time), selector_min(usage_system, time), selector_first(note, time), selector_last(note, time) FROM cpu WHERE host = 'b'
-- expect
[
  {
    "selector_max(cpu.usage_user,cpu.time)":{"value":55.5,"time":"2024-01-01T00:01:00"},
    "selector_min(cpu.usage_system,cpu.time)":{"value":0,"time":"2024-01-01T00:04:00"},
    "selector_first(cpu.note,cpu.time)":{"value":"busy","time":"2024-01-01T00:00:00"},
    "selector_last(cpu.note,cpu.time)":{"value":"neg","time":"2024-01-01T00:04:00"}
  }
]

-- query
SELECT host, selector_last(count, time) AS sel FROM cpu GROUP BY host ORDER BY host
-- expect
[
  {"host":"a","sel":{"value":5,"time":"2024-01-01T00:04:00"}},
  {"host":"b","sel":{"value":-40,"time":"2024-01-01T00:04:00"}},
  {"host":"c","sel":{"value":9223372036854775807,"time":"2024-01-01T00:05:00"}},
  {"host":"d","sel":{"value":7,"time":"2024-01-01T00:01:00"}}
]

-- query
SELECT ok, count(*) FROM cpu GROUP BY ok ORDER BY ok NULLS FIRST
-- expect
[{"count(*)":2},{"ok":false,"count(*)":3},{"ok":true,"count(*)":7}]

-- query
SELECT min(free), max(free), count(free) FROM mem
-- expect
[{"min(mem.free)":0,"max(mem.free)":18446744073709551615,"count(mem.free)":4}]

-- query
SELECT count(*) FROM cpu WHERE host = 'zzz'
-- expect
[{"count(*)":0}]

-- query
SELECT max(usage_user), sum(count) FROM cpu WHERE host = 'zzz'
-- expect
[{}]

-- query
SELECT host, count(*) FROM cpu WHERE host = 'zzz' GROUP BY host
-- expect
[]

-- query
SELECT avg(temp), min(note), max(note) FROM cpu
-- expect
[{"avg(cpu.temp)":47.75,"min(cpu.note)":"","max(cpu.note)":"start"}]

-- query
SELECT city, min(temp), max(temp), count(rain) FROM weather GROUP BY city ORDER BY city
-- expect
[
  {"city":"New York","min(weather.temp)":-2.25,"max(weather.temp)":3.5,"count(weather.rain)":2},
  {"city":"Zürich","min(weather.temp)":0.5,"max(weather.temp)":10,"count(weather.rain)":1}
]

-- query
SELECT region, host, count(*) FROM cpu GROUP BY region, host ORDER BY region, host
-- expect
[
  {"region":"eu","host":"b","count(*)":4},
  {"region":"eu","host":"d","count(*)":1},
  {"region":"us","host":"a","count(*)":5},
  {"host":"c","count(*)":2}
]

-- query
SELECT host, max(usage_user) - min(usage_user) AS spread FROM cpu GROUP BY host HAVING count(usage_user) > 1 ORDER BY spread DESC
-- expect
[{"host":"c","spread":100},{"host":"b","spread":57},{"host":"a","spread":4.5}]

-- query
SELECT sum(used), avg(pct), stddev_pop(pct) FROM mem
-- expect
[{"sum(mem.used)":514,"avg(mem.pct)":44.333333333333336,"stddev_pop(mem.pct)":41.33669341181298}]

-- query
SELECT DISTINCT ok, region FROM cpu ORDER BY ok, region
-- expect
[
  {"ok":false,"region":"eu"},
  {"ok":false,"region":"us"},
  {"ok":true,"region":"eu"},
  {"ok":true,"region":"us"},
  {"ok":true},
  {"region":"eu"},
  {}
]

-- query
SELECT count(*), count(level), sum(level), sum(code) FROM events
-- expect
[{"count(*)":5,"count(events.level)":5,"sum(events.level)":11,"sum(events.code)":1207}]
