//! `agent-trace projects create|list|grant` and `agent-trace tokens create|list|revoke`: projects
//! and their ingest tokens, through the extension's own functions (`extension/sql/projects.sql`,
//! the statements in `sql/cli/`). What is sent with a project's token is stored in that project;
//! a role reads the projects granted to it. A new token is printed once: only its SHA-256 is kept.

use crate::postgres::{Password, connect};
use tokio_postgres::Client;

const PROJECT_CREATE: &str = include_str!("../../../sql/cli/project_create.sql");
const PROJECT_GRANT: &str = include_str!("../../../sql/cli/project_grant.sql");
const PROJECT_LIST: &str = include_str!("../../../sql/cli/project_list.sql");
const TOKEN_CREATE: &str = include_str!("../../../sql/cli/token_create.sql");
const TOKEN_LIST: &str = include_str!("../../../sql/cli/token_list.sql");
const TOKEN_REVOKE: &str = include_str!("../../../sql/cli/token_revoke.sql");

/// One of the commands, with its arguments.
#[derive(Debug, Clone)]
pub enum Command {
    CreateProject {
        name: String,
    },
    ListProjects,
    Grant {
        project: String,
        role: String,
        access: String,
    },
    CreateToken {
        project: String,
        name: String,
    },
    ListTokens,
    RevokeToken {
        token_id: i32,
    },
}

/// Runs `command` against the database and returns what to print.
pub async fn run(
    command: &Command,
    database_url: &str,
    password: Option<&Password>,
) -> Result<String, String> {
    let client = connect(database_url, password).await?;
    run_on(&client, command).await.map_err(|e| describe(&e))
}

async fn run_on(client: &Client, command: &Command) -> Result<String, tokio_postgres::Error> {
    Ok(match command {
        Command::CreateProject { name } => {
            let id: i32 = client.query_one(PROJECT_CREATE, &[name]).await?.get(0);
            format!(
                "Created project {name} (project_id {id}). Nobody reads it until you grant it:\n  \
                 agent-trace projects grant {name} ROLE\nand clients write to it with a token of it:\n  \
                 agent-trace tokens create --project {name} --name WHAT-IT-IS-FOR"
            )
        }
        Command::ListProjects => table(
            &["project_id", "name", "created_at", "granted to"],
            client.query(PROJECT_LIST, &[]).await?.iter().map(|row| {
                vec![
                    row.get::<_, i32>(0).to_string(),
                    row.get(1),
                    row.get(2),
                    row.get(3),
                ]
            }),
        ),
        Command::Grant {
            project,
            role,
            access,
        } => {
            client
                .execute(PROJECT_GRANT, &[project, role, access])
                .await?;
            format!("{role} (and its members) may now {access} the rows of project {project}.")
        }
        Command::CreateToken { project, name } => {
            let token: String = client
                .query_one(TOKEN_CREATE, &[project, name])
                .await?
                .get(0);
            format!(
                "{token}\n\nThe ingest token of project {project} for {name:?}: shown this once (only its \
                 SHA-256 is stored). Clients send it as `Authorization: Bearer TOKEN`; the server accepts \
                 it within seconds, and what they send with it is stored in project {project}."
            )
        }
        Command::ListTokens => table(
            &["token_id", "project", "name", "created_at", "revoked_at"],
            client.query(TOKEN_LIST, &[]).await?.iter().map(|row| {
                vec![
                    row.get::<_, i32>(0).to_string(),
                    row.get(1),
                    row.get(2),
                    row.get(3),
                    row.get(4),
                ]
            }),
        ),
        Command::RevokeToken { token_id } => {
            let revoked: bool = client.query_one(TOKEN_REVOKE, &[token_id]).await?.get(0);
            if revoked {
                format!("Token {token_id} revoked: the server refuses it within seconds.")
            } else {
                format!("No valid token {token_id}: nothing revoked.")
            }
        }
    })
}

/// A database error in PostgreSQL's words, with its hint (what to do) when it gave one.
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.hint() {
            Some(hint) => format!("{} ({})\nhint: {hint}", db.message(), db.code().code()),
            None => format!("{} ({})", db.message(), db.code().code()),
        },
        None => error.to_string(),
    }
}

/// Rows as aligned columns, with a header.
fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = std::iter::once(header.iter().map(|h| h.to_string()).collect())
        .chain(rows)
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            rows.iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(cell, width)| format!("{cell:width$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_their_columns() {
        let text = table(
            &["id", "name"],
            vec![
                vec!["1".into(), "default".into()],
                vec!["22".into(), "a".into()],
            ]
            .into_iter(),
        );
        assert_eq!(text, "id  name\n1   default\n22  a");
    }
}
