//! Model prices: LiteLLM's price list -> `agent_trace.model_prices` (`agent-trace prices import`).
//!
//! [`parse`] is pure: it reads LiteLLM's `model_prices_and_context_window.json` (or the dated subset
//! of it this binary carries, [`SNAPSHOT`], refreshed by `scripts/update-price-snapshot.sh`) and
//! turns each token-priced model into one [`ModelPrice`] in USD per million tokens. [`import`]
//! writes a parsed list in one transaction with `sql/ingest/prices_*.sql`, which decide what is new:
//! a re-import changes nothing, and a newer list adds dated rows instead of rewriting old ones.
//! [`builtin_prices_sql`] writes the same rows of [`SNAPSHOT`] as the extension's built-in prices
//! ([`BUILTIN_SQL_PATH`], which `CREATE EXTENSION` loads), so the mapping exists once, here.
//!
//! | LiteLLM key (USD per token) | `model_prices` column (USD per million tokens) |
//! |---|---|
//! | `input_cost_per_token` | `input_usd_per_mtok` |
//! | `output_cost_per_token` | `output_usd_per_mtok` |
//! | `cache_read_input_token_cost` | `cache_read_usd_per_mtok` |
//! | `cache_creation_input_token_cost` | `cache_write_usd_per_mtok` |
//! | `output_cost_per_reasoning_token` | `reasoning_usd_per_mtok` |
//! | `<one of the first four>_above_<N>k_tokens` | `long_context_above_tokens` = N x 1000, `long_context_*_usd_per_mtok` |
//!
//! Other keys (batch, flex and priority tiers, audio, images, 1-hour cache writes, per-request
//! fees) are not read: the table prices standard text tokens. A model is skipped, never guessed, when
//! its mode is not priced per token (image generation, speech, ...), it has neither an input nor an
//! output price, a price is not a non-negative number, it has several long-context tiers, or it is
//! listed twice under one name with different prices.

use crate::postgres::{Password, connect};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use tokio_postgres::Client;

/// The dated LiteLLM subset built into this binary (`sql/prices/litellm-snapshot.json`).
pub const SNAPSHOT: &str = include_str!("../../../sql/prices/litellm-snapshot.json");
/// Where [`SNAPSHOT`] lives in the repository, for messages.
pub const SNAPSHOT_PATH: &str = "sql/prices/litellm-snapshot.json";

const LOCK_SQL: &str = include_str!("../../../sql/ingest/prices_lock.sql");
const DATE_SQL: &str = include_str!("../../../sql/ingest/prices_date.sql");
const IMPORT_SQL: &str = include_str!("../../../sql/ingest/prices_import.sql");

/// `source` of the built-in rows, the ones `CREATE EXTENSION` loads (extension/sql/prices.sql says
/// what the mark means for edits and pg_dump).
pub const BUILTIN_SOURCE: &str = "agent_trace built-in";
/// The extension's built-in prices, generated from [`SNAPSHOT`] by [`builtin_prices_sql`].
pub const BUILTIN_SQL_PATH: &str = "extension/sql/prices_snapshot.sql";
/// Set (to anything) when running the test `the_extension_loads_the_snapshot`: it writes
/// [`BUILTIN_SQL_PATH`] instead of comparing it.
pub const WRITE_BUILTIN_SQL_ENV: &str = "AGENT_TRACE_WRITE_BUILTIN_PRICES";

/// The entry `scripts/update-price-snapshot.sh` adds to a snapshot: `{"source": ..., "date": ...}`.
pub const SNAPSHOT_METADATA_KEY: &str = "agent_trace_snapshot";
/// LiteLLM modes whose models are priced per token.
const TOKEN_MODES: &[&str] = &["chat", "responses", "completion", "embedding"];
/// The per-token keys that have long-context variants (`<key>_above_<N>k_tokens`), in the order of
/// [`LongContext`]'s prices.
const TIERED_KEYS: [&str; 4] = [
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_read_input_token_cost",
    "cache_creation_input_token_cost",
];

/// One row for `agent_trace.model_prices`, prices in USD per million tokens (None: not priced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPrice {
    /// Lower-case model name without LiteLLM's provider prefix, e.g. `gemini-2.5-pro`.
    pub model_pattern: String,
    /// The provider as `model_prices` names it (OpenTelemetry `gen_ai.provider.name`), e.g. `gcp.gemini`.
    pub provider: String,
    pub input: Option<Decimal>,
    pub output: Option<Decimal>,
    pub cache_read: Option<Decimal>,
    pub cache_write: Option<Decimal>,
    pub reasoning: Option<Decimal>,
    pub long_context: Option<LongContext>,
}

/// Prices of calls with more than `above_tokens` input tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongContext {
    pub above_tokens: i64,
    pub input: Option<Decimal>,
    pub output: Option<Decimal>,
    pub cache_read: Option<Decimal>,
    pub cache_write: Option<Decimal>,
}

/// An entry of the file that was not turned into a price, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

/// A parsed price list.
#[derive(Debug, Default)]
pub struct PriceList {
    /// Sorted by (provider, model_pattern); one per pair.
    pub prices: Vec<ModelPrice>,
    /// `source` of the snapshot metadata entry, if the file has one.
    pub source: Option<String>,
    /// `date` of the snapshot metadata entry (YYYY-MM-DD), if the file has one.
    pub date: Option<String>,
    /// Entries with a `litellm_provider` that are not imported (LiteLLM's `sample_spec` and entries
    /// without one are not models and are not listed).
    pub skipped: Vec<Skipped>,
}

/// Parses LiteLLM's `model_prices_and_context_window.json` format.
pub fn parse(json: &str) -> Result<PriceList, String> {
    let root: Map<String, Value> = serde_json::from_str(json)
        .map_err(|e| format!("not a LiteLLM price list (a JSON object of models): {e}"))?;
    let mut list = PriceList::default();
    if let Some(meta) = root.get(SNAPSHOT_METADATA_KEY) {
        list.source = meta.get("source").and_then(Value::as_str).map(String::from);
        list.date = meta.get("date").and_then(Value::as_str).map(String::from);
        if let Some(date) = &list.date {
            check_date(date).map_err(|e| format!("{SNAPSHOT_METADATA_KEY}.date: {e}"))?;
        }
    }
    // (model_pattern, provider) -> (price, every entry name that gave it, conflicting?)
    let mut by_key: BTreeMap<(String, String), (ModelPrice, Vec<String>, bool)> = BTreeMap::new();
    for (name, entry) in &root {
        if name == "sample_spec" {
            continue; // LiteLLM's description of the format, not a model
        }
        let Some(litellm_provider) = entry.get("litellm_provider").and_then(Value::as_str) else {
            continue;
        };
        let price = match model_price(name, litellm_provider, entry) {
            Ok(price) => price,
            Err(reason) => {
                list.skipped.push(Skipped {
                    name: name.clone(),
                    reason,
                });
                continue;
            }
        };
        let key = (price.provider.clone(), price.model_pattern.clone());
        match by_key.get_mut(&key) {
            None => {
                by_key.insert(key, (price, vec![name.clone()], false));
            }
            Some((known, names, conflict)) => {
                *conflict |= *known != price;
                names.push(name.clone());
            }
        }
    }
    for ((provider, model), (price, names, conflict)) in by_key {
        if conflict {
            for name in &names {
                list.skipped.push(Skipped {
                    name: name.clone(),
                    reason: format!(
                        "{model} ({provider}) is listed as {} with different prices",
                        names.join(" and ")
                    ),
                });
            }
        } else {
            list.prices.push(price);
        }
    }
    list.skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// The price of one LiteLLM entry, or why it has none.
fn model_price(name: &str, litellm_provider: &str, entry: &Value) -> Result<ModelPrice, String> {
    if let Some(mode) = entry.get("mode").and_then(Value::as_str)
        && !TOKEN_MODES.contains(&mode)
    {
        return Err(format!("mode {mode} is not priced per token"));
    }
    let price = |key: &str| -> Result<Option<Decimal>, String> {
        entry
            .get(key)
            .map(|value| per_million(value).map_err(|e| format!("{key}: {e}")))
            .transpose()
    };
    let input = price("input_cost_per_token")?;
    let output = price("output_cost_per_token")?;
    if input.is_none() && output.is_none() {
        return Err("no input or output price per token".to_string());
    }
    let mut thresholds: BTreeMap<i64, [Option<Decimal>; 4]> = BTreeMap::new();
    if let Some(fields) = entry.as_object() {
        for (key, value) in fields {
            let Some((base, above)) = key
                .strip_suffix("k_tokens")
                .and_then(|rest| rest.rsplit_once("_above_"))
            else {
                continue;
            };
            let Some(slot) = TIERED_KEYS.iter().position(|k| *k == base) else {
                continue;
            };
            let Some(tokens) = above.parse::<i64>().ok().and_then(|k| k.checked_mul(1000)) else {
                continue;
            };
            thresholds.entry(tokens).or_default()[slot] =
                Some(per_million(value).map_err(|e| format!("{key}: {e}"))?);
        }
    }
    if thresholds.len() > 1 {
        return Err("several long-context tiers".to_string());
    }
    let long_context = thresholds.into_iter().next().map(
        |(above_tokens, [input, output, cache_read, cache_write])| LongContext {
            above_tokens,
            input,
            output,
            cache_read,
            cache_write,
        },
    );
    Ok(ModelPrice {
        model_pattern: model_name(name, litellm_provider),
        provider: provider_name(litellm_provider),
        input,
        output,
        cache_read: price("cache_read_input_token_cost")?,
        cache_write: price("cache_creation_input_token_cost")?,
        reasoning: price("output_cost_per_reasoning_token")?,
        long_context,
    })
}

/// LiteLLM's key without the provider prefix LiteLLM puts on some (`gemini/gemini-2.5-pro`,
/// `vertex_ai/claude-...`), in lower case.
pub fn model_name(name: &str, litellm_provider: &str) -> String {
    let name = name.trim().to_lowercase();
    match name.split_once('/') {
        Some((prefix, rest))
            if !rest.is_empty()
                && (litellm_provider == prefix
                    || litellm_provider.starts_with(&format!("{prefix}-"))) =>
        {
            rest.to_string()
        }
        _ => name,
    }
}

/// LiteLLM's provider name -> the name `model_prices` uses (the OpenTelemetry `gen_ai.provider.name`
/// where one exists). The database normalises further with `agent_trace.normalize_provider`.
pub fn provider_name(litellm_provider: &str) -> String {
    let provider = litellm_provider.trim().to_lowercase();
    match provider.as_str() {
        "openai" | "text-completion-openai" => "openai".to_string(),
        "anthropic" => "anthropic".to_string(),
        "gemini" => "gcp.gemini".to_string(),
        "vertex_ai" => "gcp.vertex_ai".to_string(),
        p if p.starts_with("vertex_ai-") => "gcp.vertex_ai".to_string(),
        "azure" | "azure_text" => "azure.ai.openai".to_string(),
        "azure_ai" => "azure.ai.inference".to_string(),
        "bedrock" | "bedrock_converse" => "aws.bedrock".to_string(),
        "mistral" => "mistral_ai".to_string(),
        "xai" => "x_ai".to_string(),
        "watsonx" => "ibm.watsonx.ai".to_string(),
        _ => provider,
    }
}

/// A LiteLLM price in USD per token -> USD per million tokens, exactly: the number's shortest
/// decimal form, shifted by six places (3e-06 -> 3, 1.25e-07 -> 0.125).
pub fn per_million(value: &Value) -> Result<Decimal, String> {
    let per_token = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|v| v.is_finite() && *v >= 0.0)
    .ok_or_else(|| format!("{value} is not a non-negative number"))?;
    // Display of f64 is the shortest decimal that reads back as the same number, without exponent.
    let exact = Decimal::from_str(&per_token.to_string())
        .map_err(|e| format!("{value} does not fit a decimal: {e}"))?;
    exact
        .checked_mul(Decimal::from(1_000_000))
        .map(|d| d.normalize())
        .ok_or_else(|| format!("{value} is too large"))
}

/// `YYYY-MM-DD` with plausible numbers (PostgreSQL checks the rest).
pub fn check_date(date: &str) -> Result<(), String> {
    let parts: Vec<&str> = date.split('-').collect();
    let ok = parts.len() == 3
        && parts[0].len() == 4
        && parts[1].len() == 2
        && parts[2].len() == 2
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
        && (1..=12).contains(&parts[1].parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&parts[2].parse::<u32>().unwrap_or(0));
    if ok {
        Ok(())
    } else {
        Err(format!("{date:?} is not a date as YYYY-MM-DD"))
    }
}

/// The extension's built-in prices ([`BUILTIN_SQL_PATH`]): SQL that inserts the rows of `list`
/// (a dated list, in practice [`SNAPSHOT`]) into `agent_trace.model_prices` as `prices import` would
/// into an empty table (providers through `normalize_provider`, effective since always, dated the
/// list's date), marked [`BUILTIN_SOURCE`]. Rows there already are left alone, so an upgrade script
/// can run it on a table with rows.
pub fn builtin_prices_sql(list: &PriceList) -> Result<String, String> {
    let date = list
        .date
        .as_deref()
        .ok_or("built-in prices need a dated list (its agent_trace_snapshot.date)")?;
    check_date(date)?;
    // (In a comment: one line.)
    let source = list
        .source
        .as_deref()
        .unwrap_or(SNAPSHOT_PATH)
        .replace(['\n', '\r'], " ");
    let text = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let number = |d: Option<Decimal>| d.map_or_else(|| "NULL".to_string(), |d| d.to_string());
    let rows: Vec<String> = list
        .prices
        .iter()
        .map(|p| {
            let long = p.long_context.as_ref();
            let values = [
                text(&p.model_pattern),
                text(&p.provider),
                number(p.input),
                number(p.output),
                number(p.cache_read),
                number(p.cache_write),
                number(p.reasoning),
                long.map_or_else(|| "NULL".to_string(), |l| l.above_tokens.to_string()),
                number(long.and_then(|l| l.input)),
                number(long.and_then(|l| l.output)),
                number(long.and_then(|l| l.cache_read)),
                number(long.and_then(|l| l.cache_write)),
            ];
            format!("    ({})", values.join(", "))
        })
        .collect();
    if rows.is_empty() {
        return Err("built-in prices need a list with prices".to_string());
    }
    Ok(format!(
        "-- agent_trace's built-in model prices: the rows CREATE EXTENSION loads into agent_trace.model_prices.
-- GENERATED by ingest/src/cli/prices.rs (builtin_prices_sql) from {SNAPSHOT_PATH}
-- ({source}, dated {date}):
-- the rows `agent-trace prices import` makes of that list, marked source '{BUILTIN_SOURCE}'
-- (prices.sql says what the mark means for edits and pg_dump).
-- Do not edit. After changing the snapshot or the mapping, write it again with
--   {WRITE_BUILTIN_SQL_ENV}=1 cargo test -p ingest --lib the_extension_loads_the_snapshot
-- (scripts/update-price-snapshot.sh does); `cargo test -p ingest` fails while it differs.
-- A row there already is left alone: an upgrade script loads this file too. The trigger that makes
-- rows written with the built-in mark the user's is off meanwhile.
ALTER TABLE agent_trace.model_prices DISABLE TRIGGER model_prices_yours;
INSERT INTO agent_trace.model_prices (model_pattern, provider, effective_from, input_usd_per_mtok,
    output_usd_per_mtok, cache_read_usd_per_mtok, cache_write_usd_per_mtok, reasoning_usd_per_mtok,
    long_context_above_tokens, long_context_input_usd_per_mtok, long_context_output_usd_per_mtok,
    long_context_cache_read_usd_per_mtok, long_context_cache_write_usd_per_mtok, source, source_date)
SELECT v.model_pattern, agent_trace.normalize_provider(v.provider), '-infinity', v.input::numeric,
       v.output::numeric, v.cache_read::numeric, v.cache_write::numeric, v.reasoning::numeric,
       v.long_context_above::bigint, v.long_context_input::numeric, v.long_context_output::numeric,
       v.long_context_cache_read::numeric, v.long_context_cache_write::numeric,
       '{BUILTIN_SOURCE}', '{date}'
  FROM (VALUES
{}
       ) AS v(model_pattern, provider, input, output, cache_read, cache_write, reasoning,
              long_context_above, long_context_input, long_context_output, long_context_cache_read,
              long_context_cache_write)
    ON CONFLICT DO NOTHING;
ALTER TABLE agent_trace.model_prices ENABLE TRIGGER model_prices_yours;
",
        rows.join(",\n")
    ))
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Rows added to `model_prices`.
    pub added: u64,
    /// Prices of the list that were already known (or superseded by newer ones) and left alone.
    pub unchanged: u64,
    /// The date the list was imported as (YYYY-MM-DD).
    pub date: String,
    /// The earliest effective_from among the added rows (`-infinity` for models new to the table).
    pub earliest_effective_from: Option<String>,
}

/// Writes `list` into `agent_trace.model_prices` in one transaction, as a list published on `date`
/// (YYYY-MM-DD; None: today in UTC), with `source` recorded on every added row.
pub async fn import(
    client: &mut Client,
    list: &PriceList,
    source: &str,
    date: Option<&str>,
) -> Result<Imported, tokio_postgres::Error> {
    let prices = &list.prices;
    let models: Vec<&str> = prices.iter().map(|p| p.model_pattern.as_str()).collect();
    let providers: Vec<&str> = prices.iter().map(|p| p.provider.as_str()).collect();
    let input = column_of(prices, |p| p.input);
    let output = column_of(prices, |p| p.output);
    let cache_read = column_of(prices, |p| p.cache_read);
    let cache_write = column_of(prices, |p| p.cache_write);
    let reasoning = column_of(prices, |p| p.reasoning);
    let long_context_above: Vec<Option<i64>> = prices
        .iter()
        .map(|p| p.long_context.as_ref().map(|l| l.above_tokens))
        .collect();
    let lc_input = column_of(prices, |p| p.long_context.as_ref().and_then(|l| l.input));
    let lc_output = column_of(prices, |p| p.long_context.as_ref().and_then(|l| l.output));
    let lc_cache_read = column_of(prices, |p| {
        p.long_context.as_ref().and_then(|l| l.cache_read)
    });
    let lc_cache_write = column_of(prices, |p| {
        p.long_context.as_ref().and_then(|l| l.cache_write)
    });

    let tx = client.transaction().await?;
    tx.batch_execute(LOCK_SQL).await?;
    let date: String = tx.query_one(DATE_SQL, &[&date]).await?.get(0);
    let rows = tx
        .query(
            IMPORT_SQL,
            &[
                &models,
                &providers,
                &input,
                &output,
                &cache_read,
                &cache_write,
                &reasoning,
                &long_context_above,
                &lc_input,
                &lc_output,
                &lc_cache_read,
                &lc_cache_write,
                &source,
                &date,
            ],
        )
        .await?;
    tx.commit().await?;
    let effective: Vec<String> = rows.iter().map(|row| row.get::<_, String>(0)).collect();
    let earliest = if effective.iter().any(|d| d == "-infinity") {
        Some("-infinity".to_string())
    } else {
        effective.iter().min().cloned()
    };
    Ok(Imported {
        added: rows.len() as u64,
        unchanged: (list.prices.len() - rows.len()) as u64,
        date,
        earliest_effective_from: earliest,
    })
}

fn column_of(
    prices: &[ModelPrice],
    f: impl Fn(&ModelPrice) -> Option<Decimal>,
) -> Vec<Option<Decimal>> {
    prices.iter().map(f).collect()
}

/// `agent-trace prices import`: what to import, and into which database.
pub struct ImportCommand {
    /// A LiteLLM price list; None: the snapshot built into the binary.
    pub file: Option<PathBuf>,
    pub source: Option<String>,
    pub date: Option<String>,
    pub database_url: String,
    /// Instead of the URL's password (--database-password-file).
    pub password: Option<Password>,
}

/// Runs `prices import` and prints what it did.
pub async fn import_command(command: ImportCommand) -> Result<(), String> {
    let (text, default_source) = match &command.file {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
            format!(
                "litellm {}",
                path.file_name()
                    .unwrap_or(path.as_os_str())
                    .to_string_lossy()
            ),
        ),
        None => (SNAPSHOT.to_string(), SNAPSHOT_PATH.to_string()),
    };
    let shown = command
        .file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("the built-in snapshot ({SNAPSHOT_PATH})"));
    let list = parse(&text).map_err(|e| format!("{shown}: {e}"))?;
    if let Some(date) = &command.date {
        check_date(date).map_err(|e| format!("--date: {e}"))?;
    }
    let source = command
        .source
        .or_else(|| list.source.clone())
        .unwrap_or(default_source);
    let date = command.date.or_else(|| list.date.clone());
    let mut client = connect(&command.database_url, command.password.as_ref()).await?;
    let imported = import(&mut client, &list, &source, date.as_deref())
        .await
        .map_err(|e| describe_error(&e))?;
    println!(
        "Read {} model prices from {shown} ({} entries skipped), source {source:?}, dated {}.",
        list.prices.len(),
        list.skipped.len(),
        imported.date
    );
    println!(
        "agent_trace.model_prices: {} rows added, {} prices already known.",
        imported.added, imported.unchanged
    );
    if let Some(from) = imported.earliest_effective_from {
        println!(
            "Stored calls keep the cost computed when they arrived. To re-cost them with these prices:\n  \
             SELECT * FROM agent_trace.recompute_costs('{from}', 'infinity');"
        );
    }
    Ok(())
}

/// The snapshot's prices, so that a fresh cluster computes costs from the start (`up`). Idempotent.
/// A one-line summary of what was imported.
pub async fn import_snapshot(database_url: &str) -> Result<String, String> {
    let list = parse(SNAPSHOT)?;
    let source = list
        .source
        .clone()
        .unwrap_or_else(|| SNAPSHOT_PATH.to_string());
    let mut client = connect(database_url, None).await?;
    let imported = import(&mut client, &list, &source, list.date.as_deref())
        .await
        .map_err(|e| describe_error(&e))?;
    Ok(format!(
        "{} models ({source}, {}; {} rows added)",
        list.prices.len(),
        imported.date,
        imported.added
    ))
}

/// A database error with PostgreSQL's own message, and what to do when the table is missing.
pub fn describe_error(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) if db.code() == &tokio_postgres::error::SqlState::UNDEFINED_TABLE => format!(
            "{}: this database has no agent_trace.model_prices. Run `CREATE EXTENSION agent_trace;` \
             (0.2.0 or later; `ALTER EXTENSION agent_trace UPDATE;` on an older one) first.",
            db.message()
        ),
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn per_token_prices_become_exact_per_million_prices() {
        assert_eq!(per_million(&json!(3e-06)), Ok(d("3")));
        assert_eq!(per_million(&json!(3.75e-06)), Ok(d("3.75")));
        assert_eq!(per_million(&json!(1.25e-07)), Ok(d("0.125")));
        assert_eq!(per_million(&json!(1.5e-05)), Ok(d("15")));
        assert_eq!(per_million(&json!(2e-08)), Ok(d("0.02")));
        assert_eq!(per_million(&json!(0)), Ok(d("0")));
        assert_eq!(per_million(&json!("2.5e-06")), Ok(d("2.5")));
        assert!(per_million(&json!(-1e-06)).is_err());
        assert!(per_million(&json!("free")).is_err());
        assert!(per_million(&json!(null)).is_err());
    }

    #[test]
    fn provider_prefixes_are_dropped_and_names_lower_cased() {
        assert_eq!(
            model_name("gemini/gemini-2.5-pro", "gemini"),
            "gemini-2.5-pro"
        );
        assert_eq!(
            model_name("vertex_ai/claude-sonnet-4-5", "vertex_ai-anthropic_models"),
            "claude-sonnet-4-5"
        );
        assert_eq!(model_name("GPT-4o", "openai"), "gpt-4o");
        // A slash that is not the provider's prefix is part of the name.
        assert_eq!(model_name("ft:gpt-4o/x", "openai"), "ft:gpt-4o/x");
        assert_eq!(provider_name("gemini"), "gcp.gemini");
        assert_eq!(provider_name("vertex_ai-language-models"), "gcp.vertex_ai");
        assert_eq!(provider_name("bedrock_converse"), "aws.bedrock");
        assert_eq!(provider_name("Groq"), "groq");
    }

    #[test]
    fn parses_the_litellm_format() {
        let file = json!({
            "sample_spec": {"input_cost_per_token": 0.0, "litellm_provider": "one of ...", "mode": "one of ..."},
            "claude-sonnet-4-5": {
                "litellm_provider": "anthropic", "mode": "chat",
                "input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
                "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
                "cache_creation_input_token_cost_above_1hr": 6e-06, "input_cost_per_token_batches": 1.5e-06
            },
            "gemini/gemini-2.5-pro": {
                "litellm_provider": "gemini", "mode": "chat",
                "input_cost_per_token": 1.25e-06, "output_cost_per_token": 1e-05,
                "cache_read_input_token_cost": 1.25e-07,
                "input_cost_per_token_above_200k_tokens": 2.5e-06,
                "output_cost_per_token_above_200k_tokens": 1.5e-05,
                "cache_read_input_token_cost_above_200k_tokens": 2.5e-07,
                "input_cost_per_token_above_200k_tokens_priority": 4.5e-06
            },
            "gemini/gemini-2.5-flash": {
                "litellm_provider": "gemini", "mode": "chat",
                "input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06,
                "output_cost_per_reasoning_token": 2.5e-06
            },
            "text-embedding-3-small": {"litellm_provider": "openai", "mode": "embedding", "input_cost_per_token": 2e-08},
            "dall-e-3": {"litellm_provider": "openai", "mode": "image_generation", "output_cost_per_image": 0.04},
            "openai/container": {"litellm_provider": "openai", "mode": "chat", "code_interpreter_cost_per_session": 0.03},
            "bad": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": "n/a"},
            "two-tiers": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                          "input_cost_per_token_above_128k_tokens": 2e-06, "input_cost_per_token_above_200k_tokens": 3e-06},
            "gemini/gemini-exp-1206": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 0, "output_cost_per_token": 0},
            "gemini-exp-1206": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06},
            "gemini/gemini-flash-latest": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 7.5e-07},
            "gemini-flash-latest": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 7.5e-07}
        })
        .to_string();
        let list = parse(&file).expect("parses");
        assert_eq!(list.source, None);
        let names: Vec<(&str, &str)> = list
            .prices
            .iter()
            .map(|p| (p.provider.as_str(), p.model_pattern.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("anthropic", "claude-sonnet-4-5"),
                ("gcp.gemini", "gemini-2.5-flash"),
                ("gcp.gemini", "gemini-2.5-pro"),
                ("gcp.gemini", "gemini-flash-latest"),
                ("openai", "text-embedding-3-small"),
            ]
        );
        assert_eq!(
            list.prices[0],
            ModelPrice {
                model_pattern: "claude-sonnet-4-5".into(),
                provider: "anthropic".into(),
                input: Some(d("3")),
                output: Some(d("15")),
                cache_read: Some(d("0.3")),
                cache_write: Some(d("3.75")),
                reasoning: None,
                long_context: None,
            }
        );
        assert_eq!(list.prices[1].reasoning, Some(d("2.5")));
        assert_eq!(
            list.prices[2].long_context,
            Some(LongContext {
                above_tokens: 200_000,
                input: Some(d("2.5")),
                output: Some(d("15")),
                cache_read: Some(d("0.25")),
                cache_write: None,
            })
        );
        assert_eq!(list.prices[4].output, None);
        let skipped: Vec<(&str, &str)> = list
            .skipped
            .iter()
            .map(|s| (s.name.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(
            skipped,
            [
                (
                    "bad",
                    "input_cost_per_token: \"n/a\" is not a non-negative number"
                ),
                ("dall-e-3", "mode image_generation is not priced per token"),
                (
                    "gemini-exp-1206",
                    "gemini-exp-1206 (gcp.gemini) is listed as gemini-exp-1206 and gemini/gemini-exp-1206 with different prices"
                ),
                (
                    "gemini/gemini-exp-1206",
                    "gemini-exp-1206 (gcp.gemini) is listed as gemini-exp-1206 and gemini/gemini-exp-1206 with different prices"
                ),
                ("openai/container", "no input or output price per token"),
                ("two-tiers", "several long-context tiers"),
            ]
        );
    }

    #[test]
    fn the_shipped_snapshot_parses_with_its_source_date_and_the_fixture_models() {
        let list = parse(SNAPSHOT).expect("the snapshot parses");
        assert_eq!(
            list.source.as_deref(),
            Some("litellm 1.106.2 model_prices_and_context_window_backup.json")
        );
        assert_eq!(list.date.as_deref(), Some("2026-10-21"));
        // LiteLLM lists gemini-exp-1206 twice with different prices: neither is imported.
        let skipped: Vec<&str> = list.skipped.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(skipped, ["gemini-exp-1206", "gemini/gemini-exp-1206"]);
        assert_eq!(list.prices.len(), 189);
        // The models the captured CLI requests use (tests/fixtures/otlp/cli_*).
        let find = |provider: &str, model: &str| {
            list.prices
                .iter()
                .find(|p| p.provider == provider && p.model_pattern == model)
                .unwrap_or_else(|| panic!("{model} ({provider}) in the snapshot"))
        };
        let sonnet = find("anthropic", "claude-sonnet-4-5");
        assert_eq!((sonnet.input, sonnet.output), (Some(d("3")), Some(d("15"))));
        find("gcp.gemini", "gemini-2.5-flash");
        find("gcp.gemini", "gemini-2.5-pro");
        find("openai", "gpt-5-codex");
    }

    /// The committed built-in prices are what the snapshot gives; with [`WRITE_BUILTIN_SQL_ENV`] set,
    /// this writes them instead.
    #[test]
    fn the_extension_loads_the_snapshot() {
        let list = parse(SNAPSHOT).expect("the snapshot parses");
        let sql = builtin_prices_sql(&list).expect("the snapshot renders");
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(BUILTIN_SQL_PATH);
        if std::env::var_os(WRITE_BUILTIN_SQL_ENV).is_some() {
            std::fs::write(&path, &sql).expect("write the built-in prices");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == sql,
            "{BUILTIN_SQL_PATH} is not what {SNAPSHOT_PATH} gives: write it again with \
             `{WRITE_BUILTIN_SQL_ENV}=1 cargo test -p ingest --lib the_extension_loads_the_snapshot`"
        );
        // One row per price, each with the built-in mark and the snapshot's date.
        assert_eq!(sql.matches("\n    ('").count(), list.prices.len());
        assert!(sql.contains("'agent_trace built-in', '2026-10-21'"));
        assert!(sql.contains("\n    ('claude-sonnet-4-5', 'anthropic', 3, 15, 0.3, 3.75, NULL, NULL, NULL, NULL, NULL, NULL)"));
    }

    #[test]
    fn built_in_prices_quote_names_and_need_a_date() {
        let list = PriceList {
            prices: vec![ModelPrice {
                model_pattern: "it's-a-model".into(),
                provider: "openai".into(),
                input: Some(d("0.125")),
                output: None,
                cache_read: None,
                cache_write: None,
                reasoning: None,
                long_context: Some(LongContext {
                    above_tokens: 200_000,
                    input: Some(d("2.5")),
                    output: None,
                    cache_read: None,
                    cache_write: None,
                }),
            }],
            source: Some("a\nlist".into()),
            date: Some("2026-01-02".into()),
            skipped: vec![],
        };
        let sql = builtin_prices_sql(&list).expect("renders");
        assert!(sql.contains("\n    ('it''s-a-model', 'openai', 0.125, NULL, NULL, NULL, NULL, 200000, 2.5, NULL, NULL, NULL)\n"), "{sql}");
        assert!(sql.contains("(a list, dated 2026-01-02)"), "{sql}");
        let undated = PriceList { date: None, ..list };
        assert!(builtin_prices_sql(&undated).is_err());
        assert!(
            builtin_prices_sql(&PriceList {
                date: Some("2026-01-02".into()),
                ..PriceList::default()
            })
            .is_err()
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(parse("[]").is_err());
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"agent_trace_snapshot": {"date": "21.10.2026"}}"#).is_err());
        assert!(check_date("2026-10-21").is_ok());
        assert!(check_date("2026-13-01").is_err());
        assert!(check_date("2026-1-01").is_err());
    }
}
