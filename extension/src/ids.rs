//! Input and output functions for the `trace_id` (16 bytes) and `span_id` (8 bytes) types.
//!
//! Users paste OpenTelemetry ids from logs as hex (32 characters for a trace, 16 for a span), so the
//! types read and print exactly that, while storing the raw bytes: half the size of hex text, and a
//! fixed length that needs no varlena header. Comparison, hashing and the binary `send` side reuse
//! PostgreSQL's own `uuid` and `macaddr8` functions (same byte layout, byte-wise order); see
//! `extension/sql/ids.sql`. What is here is only parsing and printing, plus the binary `recv`,
//! which must apply the same validity rule as text input.
//!
//! These are plain V1 fmgr functions rather than `#[pg_extern]`s: the SQL that declares them is
//! hand-written next to the `CREATE TYPE` that needs them, which pgrx's generator cannot order.

use core::ffi::{CStr, c_char};
use pgrx::pg_sys;
use pgrx::prelude::*;

pub const TRACE_ID_LEN: usize = 16;
pub const SPAN_ID_LEN: usize = 8;

/// Why a string is not a valid id. The message names the type and shows the offending input.
#[derive(Debug, PartialEq, Eq)]
pub enum IdError {
    /// Not exactly 2 * N hex digits.
    Length { expected: usize, found: usize },
    /// A character outside `0-9a-fA-F`, at this byte offset.
    NotHex { offset: usize },
    /// OpenTelemetry reserves the all-zero id for "no id"; storing it would merge unrelated spans.
    AllZero,
}

impl IdError {
    fn describe(&self, type_name: &str, input: &str) -> String {
        match self {
            IdError::Length { expected, found } => format!(
                "invalid input syntax for type {type_name}: \"{input}\" has {found} characters, expected {expected} hex digits"
            ),
            IdError::NotHex { offset } => format!(
                "invalid input syntax for type {type_name}: \"{input}\" has a non-hex character at position {}",
                offset + 1
            ),
            IdError::AllZero => format!(
                "invalid {type_name} \"{input}\": the all-zero id means \"no id\" in OpenTelemetry"
            ),
        }
    }
}

/// Parses exactly `2 * N` hex digits (either case) into `N` bytes; rejects the all-zero id.
pub fn parse_hex_id<const N: usize>(text: &str) -> Result<[u8; N], IdError> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return Err(IdError::Length {
            expected: 2 * N,
            found: text.chars().count(),
        });
    }
    let mut bytes = [0u8; N];
    for (i, pair) in digits.chunks_exact(2).enumerate() {
        let high = hex_value(pair[0]).ok_or(IdError::NotHex { offset: 2 * i })?;
        let low = hex_value(pair[1]).ok_or(IdError::NotHex { offset: 2 * i + 1 })?;
        bytes[i] = (high << 4) | low;
    }
    check_not_zero(bytes)
}

fn check_not_zero<const N: usize>(bytes: [u8; N]) -> Result<[u8; N], IdError> {
    if bytes.iter().all(|&b| b == 0) {
        Err(IdError::AllZero)
    } else {
        Ok(bytes)
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Lower-case hex, the form OpenTelemetry SDKs print and OTLP/JSON carries.
pub fn format_hex_id(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        text.push(DIGITS[usize::from(b >> 4)] as char);
        text.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    text
}

/// `code`: 22P02 (invalid_text_representation) for text input, 22P03
/// (invalid_binary_representation) for binary input, as PostgreSQL's own types report them.
fn report_invalid(type_name: &str, input: &str, error: IdError, code: PgSqlErrorCode) -> ! {
    ereport!(ERROR, code, error.describe(type_name, input));
}

/// Copies `bytes` into memory palloc'd in the current context: a pass-by-reference datum.
unsafe fn palloc_datum<const N: usize>(bytes: [u8; N]) -> pg_sys::Datum {
    unsafe {
        let target = pg_sys::palloc(N).cast::<u8>();
        target.copy_from_nonoverlapping(bytes.as_ptr(), N);
        pg_sys::Datum::from(target)
    }
}

unsafe fn id_in<const N: usize>(
    fcinfo: pg_sys::FunctionCallInfo,
    type_name: &str,
) -> pg_sys::Datum {
    unsafe {
        let raw = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<c_char>();
        let input = CStr::from_ptr(raw).to_string_lossy();
        match parse_hex_id::<N>(input.trim()) {
            Ok(bytes) => palloc_datum(bytes),
            Err(error) => report_invalid(
                type_name,
                &input,
                error,
                PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            ),
        }
    }
}

unsafe fn id_out<const N: usize>(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::Datum {
    unsafe {
        let value = pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<u8>();
        let text = format_hex_id(core::slice::from_raw_parts(value, N));
        // `text` is ASCII hex: no interior NUL. pstrdup copies it into Postgres memory.
        let owned = std::ffi::CString::new(text).unwrap_or_default();
        pg_sys::Datum::from(pg_sys::pstrdup(owned.as_ptr()))
    }
}

unsafe fn id_recv<const N: usize>(
    fcinfo: pg_sys::FunctionCallInfo,
    type_name: &str,
) -> pg_sys::Datum {
    unsafe {
        let message =
            pgrx::fcinfo::pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<pg_sys::StringInfoData>();
        let mut bytes = [0u8; N];
        // Errors with "insufficient data left in message" when fewer than N bytes remain; COPY and
        // bind reject leftover bytes themselves.
        pg_sys::pq_copymsgbytes(message, bytes.as_mut_ptr().cast(), N as i32);
        match check_not_zero(bytes) {
            Ok(bytes) => palloc_datum(bytes),
            Err(error) => report_invalid(
                type_name,
                &format_hex_id(&bytes),
                error,
                PgSqlErrorCode::ERRCODE_INVALID_BINARY_REPRESENTATION,
            ),
        }
    }
}

/// Declares `pg_finfo_<name>`, which tells PostgreSQL that `<name>` uses the V1 calling convention
/// (what `PG_FUNCTION_INFO_V1` does in C).
macro_rules! fmgr_v1 {
    ($($name:ident => $finfo:ident),* $(,)?) => {$(
        #[unsafe(no_mangle)]
        #[doc(hidden)]
        pub extern "C" fn $finfo() -> &'static pg_sys::Pg_finfo_record {
            const V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };
            &V1
        }
    )*};
}
pub(crate) use fmgr_v1;

fmgr_v1! {
    agent_trace_trace_id_in => pg_finfo_agent_trace_trace_id_in,
    agent_trace_trace_id_out => pg_finfo_agent_trace_trace_id_out,
    agent_trace_trace_id_recv => pg_finfo_agent_trace_trace_id_recv,
    agent_trace_span_id_in => pg_finfo_agent_trace_span_id_in,
    agent_trace_span_id_out => pg_finfo_agent_trace_span_id_out,
    agent_trace_span_id_recv => pg_finfo_agent_trace_span_id_recv,
}

/// # Safety
/// Called by PostgreSQL's fmgr with one non-null `cstring` argument.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_trace_id_in(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe { id_in::<TRACE_ID_LEN>(fcinfo, "trace_id") }
}

/// # Safety
/// Called by PostgreSQL's fmgr with one non-null `trace_id` argument.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_trace_id_out(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe { id_out::<TRACE_ID_LEN>(fcinfo) }
}

/// # Safety
/// Called by PostgreSQL's fmgr with one non-null `internal` (StringInfo) argument.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_trace_id_recv(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe { id_recv::<TRACE_ID_LEN>(fcinfo, "trace_id") }
}

/// # Safety
/// Called by PostgreSQL's fmgr with one non-null `cstring` argument.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_span_id_in(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe { id_in::<SPAN_ID_LEN>(fcinfo, "span_id") }
}

/// # Safety
/// Called by PostgreSQL's fmgr with one non-null `span_id` argument.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_span_id_out(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe { id_out::<SPAN_ID_LEN>(fcinfo) }
}

/// # Safety
/// Called by PostgreSQL's fmgr with one non-null `internal` (StringInfo) argument.
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_span_id_recv(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    unsafe { id_recv::<SPAN_ID_LEN>(fcinfo, "span_id") }
}

/// `agent_trace.trace_id` and `agent_trace.span_id` as arguments and results of the `#[pg_extern]`
/// functions (trace_tree and friends): the raw bytes, read from and written to the fixed-length
/// pass-by-reference datums the two types are.
macro_rules! id_datum_type {
    ($rust:ident, $len:expr, $sql:literal) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $rust(pub [u8; $len]);

        impl FromDatum for $rust {
            unsafe fn from_polymorphic_datum(
                datum: pg_sys::Datum,
                is_null: bool,
                _typoid: pg_sys::Oid,
            ) -> Option<Self> {
                if is_null {
                    return None;
                }
                let mut bytes = [0u8; $len];
                // SAFETY: a non-null datum of this type points at exactly $len bytes.
                unsafe {
                    bytes.copy_from_slice(core::slice::from_raw_parts(
                        datum.cast_mut_ptr::<u8>(),
                        $len,
                    ))
                };
                Some($rust(bytes))
            }
        }

        impl IntoDatum for $rust {
            fn into_datum(self) -> Option<pg_sys::Datum> {
                // SAFETY: palloc in the current memory context, which outlives the returned datum's use.
                Some(unsafe { palloc_datum(self.0) })
            }

            fn type_oid() -> pg_sys::Oid {
                pgrx::wrappers::regtypein($sql)
            }
        }

        unsafe impl<'fcx> pgrx::callconv::ArgAbi<'fcx> for $rust {
            unsafe fn unbox_arg_unchecked(arg: pgrx::callconv::Arg<'_, 'fcx>) -> Self {
                let index = arg.index();
                // A function that takes the id itself (not an Option) and is called with NULL.
                unsafe { arg.unbox_arg_using_from_datum() }.unwrap_or_else(|| {
                    ereport!(
                        ERROR,
                        PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
                        format!("argument {} ({}) must not be NULL", index + 1, $sql)
                    );
                })
            }
        }

        unsafe impl pgrx::callconv::BoxRet for $rust {
            unsafe fn box_into<'fcx>(
                self,
                fcinfo: &mut pgrx::callconv::FcInfo<'fcx>,
            ) -> pgrx::datum::Datum<'fcx> {
                match self.into_datum() {
                    Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
                    None => fcinfo.return_null(),
                }
            }
        }

        unsafe impl pgrx::pgrx_sql_entity_graph::metadata::SqlTranslatable for $rust {
            const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!($rust);
            const TYPE_ORIGIN: pgrx::pgrx_sql_entity_graph::metadata::TypeOrigin =
                pgrx::pgrx_sql_entity_graph::metadata::TypeOrigin::External;
            const ARGUMENT_SQL: Result<
                pgrx::pgrx_sql_entity_graph::metadata::SqlMappingRef,
                pgrx::pgrx_sql_entity_graph::metadata::ArgumentError,
            > = Ok(pgrx::pgrx_sql_entity_graph::metadata::SqlMappingRef::literal($sql));
            const RETURN_SQL: Result<
                pgrx::pgrx_sql_entity_graph::metadata::ReturnsRef,
                pgrx::pgrx_sql_entity_graph::metadata::ReturnsError,
            > = Ok(pgrx::pgrx_sql_entity_graph::metadata::ReturnsRef::One(
                pgrx::pgrx_sql_entity_graph::metadata::SqlMappingRef::literal($sql),
            ));
        }
    };
}

id_datum_type!(TraceId, TRACE_ID_LEN, "agent_trace.trace_id");
id_datum_type!(SpanId, SPAN_ID_LEN, "agent_trace.span_id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_either_case_and_prints_lower_case() {
        let id = parse_hex_id::<16>("4BF92F3577B34DA6a3ce929d0e0e4736").unwrap();
        assert_eq!(id[0], 0x4b);
        assert_eq!(id[15], 0x36);
        assert_eq!(format_hex_id(&id), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn rejects_wrong_length_non_hex_and_zero() {
        assert_eq!(
            parse_hex_id::<8>("00f067aa0ba902"),
            Err(IdError::Length {
                expected: 16,
                found: 14
            })
        );
        assert_eq!(
            parse_hex_id::<8>("00f067aa0ba902g7"),
            Err(IdError::NotHex { offset: 14 })
        );
        assert_eq!(parse_hex_id::<8>("0000000000000000"), Err(IdError::AllZero));
        // A multi-byte character must not be split into "hex digits".
        assert!(parse_hex_id::<8>("00f067aa0ba902é").is_err());
    }
}
