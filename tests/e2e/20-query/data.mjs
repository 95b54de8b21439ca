// SPDX-License-Identifier: MIT
//
// The small dataset of the query tests. Five weather rows (ids P1 B T P2 O, in time order)
// and one air row. Oslo has no country tag, no hum, no ok; only Paris and Tokyo have notes.

export const DB = 'qdb';

export const WEATHER_LP = [
  'weather,city=Paris,country=FR temp=12.5,hum=80i,ok=true,note="mild, \\"dry\\"" 1700000000000000000',
  'weather,city=Berlin,country=DE temp=-3.25,hum=91i,ok=false 1700000060000000000',
  'weather,city=Tokyo,country=JP temp=20.75,hum=60i,note="sunny" 1700000120000000000',
  'weather,city=Paris,country=FR temp=13.5,hum=75i,ok=true 1700000180000000000',
  'weather,city=Oslo temp=0.5,pressure=1013u 1700000240500000000',
].join('\n');

export const AIR_LP = 'air,city=Paris pm25=7.5 1700000000000000000';

/* id of each weather row by its time text */
export const ID_BY_TIME = {
  '2023-11-14T22:13:20': 'P1',
  '2023-11-14T22:14:20': 'B',
  '2023-11-14T22:15:20': 'T',
  '2023-11-14T22:16:20': 'P2',
  '2023-11-14T22:17:20.500': 'O',
};

export async function loadData(srv) {
  await srv.write(DB, WEATHER_LP);
  await srv.write(DB, AIR_LP);
}

/* ids of the weather rows a WHERE clause selects, in time order */
export async function ids(srv, where) {
  const rows = await srv.query(DB, `SELECT time FROM weather WHERE ${where} ORDER BY time`);
  return rows.map((r) => ID_BY_TIME[r.time] ?? `?${r.time}`);
}
