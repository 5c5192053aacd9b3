-- A superuser login reads with the reader role's privileges only (see may_read_as_reader.sql).
SET ROLE agent_trace_reader
