-- Row count and an order-independent checksum of the whole content of one history table
-- (used by tests to prove a refused batch changed nothing). {table} is a history table name.
SELECT count(*) AS n, coalesce(sum(hash(t)), 0) AS checksum
FROM history.{table} AS t
