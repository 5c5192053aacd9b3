-- The viewer reads with the reader role's privileges only, whatever the login role may do.
SET ROLE agent_trace_reader
