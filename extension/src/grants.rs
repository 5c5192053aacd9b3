//! `agent_trace._projects_granted_cached(access, role)`, declared in sql/citus.sql: the projects
//! the row-level security policies let `role` read or write, once per statement.
//!
//! On one node the policies ask `_projects_granted` in a subquery, which PostgreSQL runs once per
//! statement. Citus refuses subqueries in the policies of distributed tables, so there the policy
//! calls a function for every row; asking the grants each time costs a query per row (95 µs: a
//! 20,000-span count took 1.9 s). This function keeps the answer for the rest of the statement
//! (keyed by the command id, the roles and the `agent_trace.project` setting) and forgets it when
//! the transaction ends, so a grant or revoke counts from the next statement, as on one node.

use core::ffi::{CStr, c_char, c_void};
use pgrx::pg_sys;
use pgrx::prelude::*;
use std::cell::RefCell;

/// What one answer depends on.
#[derive(PartialEq, Eq)]
struct Question {
    access: String,
    role: String,
    session_user: pg_sys::Oid,
    command: pg_sys::CommandId,
    project_setting: Option<String>,
}

thread_local! {
    /// The answers of the current transaction: a handful (read and write, a role or two).
    static ANSWERS: RefCell<Vec<(Question, Vec<i32>)>> = const { RefCell::new(Vec::new()) };
}

/// Registered once when the library loads: every answer goes when its transaction ends.
pub fn forget_answers_at_transaction_end() {
    unsafe { pg_sys::RegisterXactCallback(Some(forget_answers), core::ptr::null_mut()) };
}

#[pg_guard]
unsafe extern "C-unwind" fn forget_answers(_event: pg_sys::XactEvent::Type, _arg: *mut c_void) {
    ANSWERS.with(|answers| answers.borrow_mut().clear());
}

crate::ids::fmgr_v1! {
    agent_trace_projects_granted_cached => pg_finfo_agent_trace_projects_granted_cached,
}

/// # Safety
/// Called by PostgreSQL's fmgr with two non-null arguments, `text` and `name` (declared STRICT).
#[pg_guard]
#[unsafe(no_mangle)]
pub unsafe extern "C-unwind" fn agent_trace_projects_granted_cached(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    let (access, role) = unsafe {
        let args = (*fcinfo).args.as_ptr();
        let access = String::from_datum((*args).value, (*args).isnull).unwrap_or_default();
        let role = CStr::from_ptr((*args.add(1)).value.cast_mut_ptr::<c_char>())
            .to_string_lossy()
            .into_owned();
        (access, role)
    };
    let question = unsafe {
        let setting = pg_sys::GetConfigOption(c"agent_trace.project".as_ptr(), true, false);
        Question {
            access,
            role,
            session_user: pg_sys::GetSessionUserId(),
            command: pg_sys::GetCurrentCommandId(false),
            project_setting: (!setting.is_null())
                .then(|| CStr::from_ptr(setting).to_string_lossy().into_owned()),
        }
    };
    let known = ANSWERS.with(|answers| {
        answers
            .borrow()
            .iter()
            .find(|(asked, _)| *asked == question)
            .map(|(_, projects)| projects.clone())
    });
    let projects = known.unwrap_or_else(|| {
        let projects = ask(&question);
        ANSWERS.with(|answers| {
            let mut answers = answers.borrow_mut();
            // Answers of earlier statements are of no more use.
            answers.retain(|(asked, _)| asked.command == question.command);
            answers.push((question, projects.clone()));
        });
        projects
    });
    projects.into_datum().expect("an int4 array is never NULL")
}

/// The grants as `_projects_granted_here` reads them (with the caller's rights, as the policy).
fn ask(question: &Question) -> Vec<i32> {
    Spi::connect(|client| -> Result<Option<Vec<i32>>, pgrx::spi::Error> {
        client
            .select(
                "SELECT agent_trace._projects_granted_here($1, $2::name)",
                Some(1),
                &[
                    question.access.as_str().into(),
                    question.role.as_str().into(),
                ],
            )?
            .first()
            .get(1)
    })
    .unwrap_or_else(|error| {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            format!("agent_trace: SPI could not read the project grants: {error}")
        );
    })
    .unwrap_or_default()
}
