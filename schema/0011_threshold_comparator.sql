-- 0011_threshold_comparator: the direction of a resistance threshold (study file format 2).
--
-- threshold_comparator   '>=', '>', '<=' or '<': the criterion is <value> <comparator> <threshold>
--                        <threshold_unit>, e.g. '>=' for ">=4 months on a checkpoint inhibitor",
--                        '<' for "primary resistance = <16 weeks". Required with a threshold in format 2
--                        study files (validation refuses any other value: DuckDB cannot add a column
--                        with a CHECK constraint); NULL for a definition without a threshold, and for a
--                        threshold read from a format 1 file, written before the field existed
--                        (direction not recorded).
ALTER TABLE history.resistance_definitions ADD COLUMN threshold_comparator VARCHAR;
