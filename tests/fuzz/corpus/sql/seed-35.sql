SELECT *
FROM cpu
WHERE	host = 'é'