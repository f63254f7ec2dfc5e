/// The libpq client of esurat: connection pool, parameterised statements, typed rows,
/// transactions, pipeline batches, LISTEN/NOTIFY, migrations and the embedded cluster.
///
/// ## Where libpq's blocking calls run
/// libpq's ordinary API blocks the calling thread for a whole round trip. Blocking a thread
/// of Swift's cooperative pool (two threads on a two-core machine) would stall every other
/// task, so no libpq call is ever made there. Instead each pooled connection is confined to
/// a dedicated ``ConnectionThread``: the `PGconn` is touched only by that thread, callers
/// hand it a closure and `await` the result. We chose dedicated threads over libpq's
/// non-blocking API because a thread per connection keeps every call simple (the ordinary
/// synchronous libpq functions, which are the best tested) and the pool's size bounds the
/// threads; and over `NIOThreadPool` because its jobs are skipped once the awaiting task is
/// cancelled, while a `ROLLBACK` after cancellation must still run. Pipeline batches switch
/// their connection to non-blocking mode for the batch and wait on socket readiness with
/// `poll(2)`, on the same dedicated thread, which is what libpq documents to avoid the
/// send/receive deadlock of large pipelines.
///
/// ## Only parameterised SQL
/// Statements are ``PostgresQuery`` values, which only a string *literal* creates: no user
/// text can be spliced into SQL by accident. Values always travel as parameters.
/// ``PostgresQuery/init(trustedSQL:)`` exists for SQL the operator ships (migration files).
public enum EsuratPostgresModule {}
