#ifndef ESURAT_CLIBPQ_SHIM_H
#define ESURAT_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>

/* PG_DIAG_* are character literals in postgres_ext.h; Swift imports them as Int32 but the
 * names read better through these functions at the call site. */
static inline int CLibPQ_diagSQLState(void) { return PG_DIAG_SQLSTATE; }
static inline int CLibPQ_diagSeverity(void) { return PG_DIAG_SEVERITY_NONLOCALIZED; }
static inline int CLibPQ_diagMessagePrimary(void) { return PG_DIAG_MESSAGE_PRIMARY; }
static inline int CLibPQ_diagMessageDetail(void) { return PG_DIAG_MESSAGE_DETAIL; }
static inline int CLibPQ_diagMessageHint(void) { return PG_DIAG_MESSAGE_HINT; }
static inline int CLibPQ_diagConstraintName(void) { return PG_DIAG_CONSTRAINT_NAME; }
static inline int CLibPQ_diagTableName(void) { return PG_DIAG_TABLE_NAME; }
static inline int CLibPQ_diagColumnName(void) { return PG_DIAG_COLUMN_NAME; }

#endif
