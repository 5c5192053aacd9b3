//! The MCP server's own statements, `sql/mcp/*.sql`; where a tool asks what the viewer asks, it
//! runs the viewer's statement (`crate::read::queries`).

use crate::read::Query;

macro_rules! mcp_sql {
    ($($constant:ident = $name:literal;)*) => {
        $(pub const $constant: Query = Query {
            name: $name,
            sql: include_str!(concat!("../../../sql/mcp/", $name, ".sql")),
        };)*
    };
}

mcp_sql! {
    CAN_READ = "can_read";
    TRACE_TREE = "trace_tree";
    TRACE_SCORES = "trace_scores";
    SCORES = "scores";
    SESSION = "session";
    SQL_BEGIN = "sql_begin";
    SQL_SETTINGS = "sql_settings";
    SQL_LOGIN = "sql_login";
}
