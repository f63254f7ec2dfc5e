/// The libpq client of esurat: connection pool, parameterised statements, typed rows,
/// transactions, pipeline batches, LISTEN/NOTIFY, migrations and the embedded cluster.
///
/// ## Where libpq's blocking calls run
/// libpq's ordinary API blocks the calling thread for a whole round trip; blocking a thread
/// of Swift's cooperative pool (two threads on a two-core machine) would stall every other
/// task. So pooled connections run in libpq's **non-blocking mode**: a task sends its
/// statement (`PQsendQueryPrepared`, which only fills a buffer), flushes it, and suspends on
/// ``SocketReactor`` — one epoll thread for all connections — until the socket is readable;
/// then it reads the buffered result (`PQconsumeInput`, `PQisBusy`, `PQgetResult`). No
/// libpq call on a task ever waits for the network.
///
/// We first gave every connection a dedicated thread running the blocking API (simplest
/// code). It cost two thread wake-ups per statement and reached 0.40× pgbench's SELECT 1
/// rate on two cores; with the reactor it reaches 0.89×, since one wake-up serves every
/// connection that became ready at once. The few calls that remain blocking — connecting, the LISTEN loop, the embedded
/// cluster launcher — run on dedicated threads (``ConnectionThread``).
///
/// ## Only parameterised SQL
/// Statements are ``PostgresQuery`` values, which only a string *literal* creates: no user
/// text can be spliced into SQL by accident. Values always travel as parameters.
/// ``PostgresQuery/init(trustedSQL:)`` exists for SQL the operator ships (migration files).
public enum EsuratPostgresModule {}
