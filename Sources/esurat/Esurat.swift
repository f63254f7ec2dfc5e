import ArgumentParser

@main
struct Esurat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "esurat",
        abstract: "Electronic official correspondence (naskah dinas elektronik) for regional governments.",
        discussion: """
            Every command that needs a database takes --database-url (or ESURAT_DATABASE_URL). \
            Without one, esurat runs its own PostgreSQL cluster under <data-dir>/pg.
            """,
        subcommands: [Serve.self, Worker.self, Migrate.self, SeedDemo.self, PKI.self, Sign.self, Verify.self, Bench.self, Export.self, VerifyArchive.self, Timestamps.self]
    )
}
