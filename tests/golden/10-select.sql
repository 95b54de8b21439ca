-- SQL (/api/v3/query_sql, format json): projections, DISTINCT, ORDER BY, LIMIT/OFFSET,
-- expressions and scalar functions over the golden data set (data-1.lp, data-2.lp).

-- query
SELECT * FROM cpu ORDER BY host, time
-- expect
[
  {
    "count":1,
    "host":"a",
    "note":"start",
    "ok":true,
    "region":"us",
    "time":"2024-01-01T00:00:00",
    "usage_system":2.5,
    "usage_user":10.5
  },
  {"count":2,"host":"a","ok":true,"region":"us","time":"2024-01-01T00:01:00","usage_system":3,"usage_user":13},
  {"count":3,"host":"a","note":"spike","ok":false,"region":"us","time":"2024-01-01T00:02:00","usage_user":11.25},
  {"count":4,"host":"a","ok":true,"region":"us","time":"2024-01-01T00:03:00","usage_system":2,"usage_user":9.75},
  {
    "count":5,
    "host":"a",
    "ok":true,
    "region":"us",
    "temp":40.5,
    "time":"2024-01-01T00:04:00",
    "usage_system":1.5,
    "usage_user":8.5
  },
  {
    "count":10,
    "host":"b",
    "note":"busy",
    "ok":false,
    "region":"eu",
    "time":"2024-01-01T00:00:00",
    "usage_system":10,
    "usage_user":50
  },
  {"count":20,"host":"b","ok":false,"region":"eu","time":"2024-01-01T00:01:00","usage_system":11,"usage_user":55.5},
  {"count":30,"host":"b","ok":true,"region":"eu","time":"2024-01-01T00:02:00","usage_system":12.5,"usage_user":52},
  {
    "count":-40,
    "host":"b",
    "note":"neg",
    "ok":true,
    "region":"eu",
    "time":"2024-01-01T00:04:00",
    "usage_system":0,
    "usage_user":-1.5
  },
  {"count":0,"host":"c","note":"","ok":true,"time":"2024-01-01T00:00:00","usage_user":0},
  {"count":9223372036854775807,"host":"c","note":"max int","time":"2024-01-01T00:05:00","usage_user":100},
  {"count":7,"host":"d","region":"eu","temp":55,"time":"2024-01-01T00:01:00","usage_user":20}
]

-- query
SELECT host, region, usage_user FROM cpu ORDER BY time, host
-- expect
[
  {"host":"a","region":"us","usage_user":10.5},
  {"host":"b","region":"eu","usage_user":50},
  {"host":"c","usage_user":0},
  {"host":"a","region":"us","usage_user":13},
  {"host":"b","region":"eu","usage_user":55.5},
  {"host":"d","region":"eu","usage_user":20},
  {"host":"a","region":"us","usage_user":11.25},
  {"host":"b","region":"eu","usage_user":52},
  {"host":"a","region":"us","usage_user":9.75},
  {"host":"a","region":"us","usage_user":8.5},
  {"host":"b","region":"eu","usage_user":-1.5},
  {"host":"c","usage_user":100}
]

-- query
SELECT * FROM mem ORDER BY host, time
-- expect
[
  {"free":1024,"host":"a","pct":33.5,"time":"2024-01-01T00:00:00","used":512},
  {"free":18446744073709551615,"host":"a","pct":0,"time":"2024-01-01T00:01:00","used":0},
  {"free":0,"host":"b","time":"2024-01-01T00:00:00","used":-7},
  {"free":4096,"host":"b","pct":99.5,"time":"2024-01-01T00:02:00","used":9}
]

-- query
SELECT * FROM weather ORDER BY city, time
-- expect
[
  {"city":"New York","desc":"clear","rain":false,"temp":3.5,"time":"2024-01-01T00:00:00"},
  {"city":"New York","desc":"snow, \"light\"","rain":true,"temp":-2.25,"time":"2024-01-01T01:00:00"},
  {"city":"Zürich","rain":false,"temp":10,"time":"2024-01-01T00:00:00"},
  {"city":"Zürich","desc":"fog","temp":0.5,"time":"2024-01-02T00:00:00"}
]

-- query
SELECT * FROM events ORDER BY time
-- expect
[
  {"level":0,"msg":"ancient","time":"1969-12-31T00:00:00"},
  {"code":200,"level":1,"msg":"boot","time":"2024-01-01T00:00:00"},
  {"code":507,"level":3,"msg":"warn: disk","time":"2024-01-01T00:00:30"},
  {"level":2,"msg":"ok","time":"2024-01-01T00:01:30"},
  {"code":500,"level":5,"msg":"late","time":"2024-01-01T01:00:00"}
]

-- query
SELECT DISTINCT host FROM cpu ORDER BY host
-- expect
[{"host":"a"},{"host":"b"},{"host":"c"},{"host":"d"}]

-- query
SELECT DISTINCT region FROM cpu ORDER BY region NULLS FIRST
-- expect
[{},{"region":"eu"},{"region":"us"}]

-- query
SELECT host, usage_user FROM cpu ORDER BY usage_user DESC NULLS LAST, host LIMIT 3
-- expect
[{"host":"c","usage_user":100},{"host":"b","usage_user":55.5},{"host":"b","usage_user":52}]

-- query
SELECT host, time FROM cpu ORDER BY time DESC, host LIMIT 2 OFFSET 1
-- expect
[{"host":"a","time":"2024-01-01T00:04:00"},{"host":"b","time":"2024-01-01T00:04:00"}]

-- query
SELECT host, usage_user * 2 AS twice, usage_user + usage_system AS total FROM cpu WHERE host = 'a' ORDER BY time
-- expect
[
  {"host":"a","twice":21,"total":13},
  {"host":"a","twice":26,"total":16},
  {"host":"a","twice":22.5},
  {"host":"a","twice":19.5,"total":11.75},
  {"host":"a","twice":17,"total":10}
]

-- query
SELECT note, length(note), upper(note), concat(host, '-', note) AS hn FROM cpu WHERE note IS NOT NULL ORDER BY host, time
-- expect
[
  {"note":"start","length(cpu.note)":5,"upper(cpu.note)":"START","hn":"a-start"},
  {"note":"spike","length(cpu.note)":5,"upper(cpu.note)":"SPIKE","hn":"a-spike"},
  {"note":"busy","length(cpu.note)":4,"upper(cpu.note)":"BUSY","hn":"b-busy"},
  {"note":"neg","length(cpu.note)":3,"upper(cpu.note)":"NEG","hn":"b-neg"},
  {"note":"","length(cpu.note)":0,"upper(cpu.note)":"","hn":"c-"},
  {"note":"max int","length(cpu.note)":7,"upper(cpu.note)":"MAX INT","hn":"c-max int"}
]

-- query
SELECT host, time, CASE WHEN usage_user > 50 THEN 'high' WHEN usage_user > 10 THEN 'mid' ELSE 'low' END AS level FROM cpu ORDER BY host, time
-- expect
[
  {"host":"a","time":"2024-01-01T00:00:00","level":"mid"},
  {"host":"a","time":"2024-01-01T00:01:00","level":"mid"},
  {"host":"a","time":"2024-01-01T00:02:00","level":"mid"},
  {"host":"a","time":"2024-01-01T00:03:00","level":"low"},
  {"host":"a","time":"2024-01-01T00:04:00","level":"low"},
  {"host":"b","time":"2024-01-01T00:00:00","level":"mid"},
  {"host":"b","time":"2024-01-01T00:01:00","level":"high"},
  {"host":"b","time":"2024-01-01T00:02:00","level":"high"},
  {"host":"b","time":"2024-01-01T00:04:00","level":"low"},
  {"host":"c","time":"2024-01-01T00:00:00","level":"low"},
  {"host":"c","time":"2024-01-01T00:05:00","level":"high"},
  {"host":"d","time":"2024-01-01T00:01:00","level":"mid"}
]

-- query
SELECT host, coalesce(usage_user, -1) AS u, nullif(count, 0) AS c FROM cpu WHERE host IN ('b', 'c') ORDER BY host, time
-- expect
[
  {"host":"b","u":50,"c":10},
  {"host":"b","u":55.5,"c":20},
  {"host":"b","u":52,"c":30},
  {"host":"b","u":-1.5,"c":-40},
  {"host":"c","u":0},
  {"host":"c","u":100,"c":9223372036854775807}
]

-- query
SELECT count, CAST(count AS DOUBLE) / 4 AS quarter, usage_user::BIGINT AS u FROM cpu WHERE host = 'a' ORDER BY time
-- expect
[
  {"count":1,"quarter":0.25,"u":10},
  {"count":2,"quarter":0.5,"u":13},
  {"count":3,"quarter":0.75,"u":11},
  {"count":4,"quarter":1,"u":9},
  {"count":5,"quarter":1.25,"u":8}
]

-- query
SELECT usage_user, abs(usage_user), round(usage_user), floor(usage_user), ceil(usage_user) FROM cpu WHERE host = 'b' ORDER BY time
-- expect
[
  {
    "usage_user":50,
    "abs(cpu.usage_user)":50,
    "round(cpu.usage_user)":50,
    "floor(cpu.usage_user)":50,
    "ceil(cpu.usage_user)":50
  },
  {
    "usage_user":55.5,
    "abs(cpu.usage_user)":55.5,
    "round(cpu.usage_user)":56,
    "floor(cpu.usage_user)":55,
    "ceil(cpu.usage_user)":56
  },
  {
    "usage_user":52,
    "abs(cpu.usage_user)":52,
    "round(cpu.usage_user)":52,
    "floor(cpu.usage_user)":52,
    "ceil(cpu.usage_user)":52
  },
  {
    "usage_user":-1.5,
    "abs(cpu.usage_user)":1.5,
    "round(cpu.usage_user)":-2,
    "floor(cpu.usage_user)":-2,
    "ceil(cpu.usage_user)":-1
  }
]

-- query
SELECT city, temp, "desc" FROM weather WHERE city = 'Zürich' ORDER BY time
-- expect
[{"city":"Zürich","temp":10},{"city":"Zürich","temp":0.5,"desc":"fog"}]

-- query
SELECT "desc", lower("desc"), substr("desc", 1, 4) FROM weather WHERE "desc" LIKE '%,%'
-- expect
[{"desc":"snow, \"light\"","lower(weather.desc)":"snow, \"light\"","substr(weather.desc,Int64(1),Int64(4))":"snow"}]

-- query
SHOW TABLES
-- expect
[
  {"table_catalog":"public","table_schema":"iox","table_name":"cpu","table_type":"BASE TABLE"},
  {"table_catalog":"public","table_schema":"iox","table_name":"events","table_type":"BASE TABLE"},
  {"table_catalog":"public","table_schema":"iox","table_name":"mem","table_type":"BASE TABLE"},
  {"table_catalog":"public","table_schema":"iox","table_name":"weather","table_type":"BASE TABLE"},
  {"table_catalog":"public","table_schema":"system","table_name":"parquet_files","table_type":"BASE TABLE"},
  {"table_catalog":"public","table_schema":"information_schema","table_name":"tables","table_type":"VIEW"},
  {"table_catalog":"public","table_schema":"information_schema","table_name":"columns","table_type":"VIEW"}
]

-- query
SHOW COLUMNS FROM cpu
-- expect
[
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"count",
    "data_type":"Int64",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"host",
    "data_type":"Dictionary(Int32, Utf8)",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"note",
    "data_type":"Utf8",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"ok",
    "data_type":"Boolean",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"region",
    "data_type":"Dictionary(Int32, Utf8)",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"temp",
    "data_type":"Float64",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"time",
    "data_type":"Timestamp(Nanosecond, None)",
    "is_nullable":"NO"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"usage_system",
    "data_type":"Float64",
    "is_nullable":"YES"
  },
  {
    "table_catalog":"public",
    "table_schema":"iox",
    "table_name":"cpu",
    "column_name":"usage_user",
    "data_type":"Float64",
    "is_nullable":"YES"
  }
]

-- query
SELECT free, used, pct FROM mem ORDER BY free DESC NULLS LAST
-- expect
[
  {"free":18446744073709551615,"used":0,"pct":0},
  {"free":4096,"used":9,"pct":99.5},
  {"free":1024,"used":512,"pct":33.5},
  {"free":0,"used":-7}
]

-- query
SELECT level, msg FROM events ORDER BY level DESC LIMIT 2
-- expect
[{"level":5,"msg":"late"},{"level":3,"msg":"warn: disk"}]

-- query
SELECT host, count % 3 AS m, -count AS neg FROM cpu WHERE host IN ('a', 'b') ORDER BY host, time
-- expect
[
  {"host":"a","m":1,"neg":-1},
  {"host":"a","m":2,"neg":-2},
  {"host":"a","m":0,"neg":-3},
  {"host":"a","m":1,"neg":-4},
  {"host":"a","m":2,"neg":-5},
  {"host":"b","m":1,"neg":-10},
  {"host":"b","m":2,"neg":-20},
  {"host":"b","m":0,"neg":-30},
  {"host":"b","m":-1,"neg":40}
]
