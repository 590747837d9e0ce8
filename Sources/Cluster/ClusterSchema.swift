import Foundation
import Logging
import PostgresNIO

/// The cluster's tables (docs/CLUSTER.md, "Schema"), created and migrated by every worker on start:
/// the migrations run in one transaction under a transaction-scoped advisory lock, so that many
/// workers starting at once apply each exactly once, and a version table records what was applied.
enum ClusterSchema {
    /// pg_advisory_xact_lock key: "flamingo" in ASCII, as a 64-bit number.
    static let lockKey: Int64 = 0x666C_616D_696E_676F
    /// The channel NOTIFY wakes idle workers on when jobs are queued.
    static let channel = "flamingo_jobs"

    /// Migration N (1-based) is `migrations[N - 1]`: statements run in order. Never edit a shipped one;
    /// append.
    static let migrations: [[String]] = [
        [
            """
            CREATE TABLE flamingo_jobs (
                id bigserial PRIMARY KEY,
                share text NOT NULL,               -- the share's name (--share NAME=ROOT)
                path text NOT NULL,                -- relative to the share's root
                size bigint NOT NULL,              -- bytes
                mtime_ns bigint NOT NULL,          -- nanoseconds since 1970
                content_hash text NOT NULL,        -- SHA-256 of sampled blocks (VideoIdentity)
                pipeline_hash text NOT NULL,
                model_hash text NOT NULL,
                state text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'done', 'failed', 'gone', 'superseded')),
                attempt integer NOT NULL DEFAULT 0,   -- incremented when claimed
                max_attempts integer NOT NULL,
                run_at timestamptz NOT NULL DEFAULT now(),
                lease_token uuid,                  -- the fencing token of the current claim
                leased_by text,                    -- flamingo_workers.id
                lease_expires_at timestamptz,
                completions integer NOT NULL DEFAULT 0,  -- fenced completions: 1 when all is well
                errors jsonb NOT NULL DEFAULT '[]'::jsonb,
                enqueued_by text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                finished_at timestamptz,
                CONSTRAINT flamingo_jobs_identity
                    UNIQUE (share, path, size, mtime_ns, content_hash, pipeline_hash, model_hash)
            )
            """,
            "CREATE INDEX flamingo_jobs_due ON flamingo_jobs (run_at, id) WHERE state = 'queued'",
            "CREATE INDEX flamingo_jobs_leases ON flamingo_jobs (lease_expires_at) WHERE state = 'running'",
            """
            CREATE TABLE flamingo_results (
                share text NOT NULL,
                path text NOT NULL,
                job_id bigint NOT NULL REFERENCES flamingo_jobs (id),
                status text NOT NULL,              -- the sidecar's: ok or error
                sidecar jsonb NOT NULL,            -- VIDEO.flamingo.json as written
                search_text text NOT NULL,         -- captions, segments, answers (SearchDocument)
                search tsvector GENERATED ALWAYS AS (to_tsvector('english', search_text)) STORED,
                written_by text NOT NULL,
                written_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (share, path)
            )
            """,
            "CREATE INDEX flamingo_results_search ON flamingo_results USING gin (search)",
            """
            CREATE TABLE flamingo_workers (
                id text PRIMARY KEY,               -- host:pid:random
                host text NOT NULL,
                pid integer NOT NULL,
                started_at timestamptz NOT NULL DEFAULT now(),
                last_seen timestamptz NOT NULL DEFAULT now(),
                done integer NOT NULL DEFAULT 0,
                failed integer NOT NULL DEFAULT 0,
                lost_leases integer NOT NULL DEFAULT 0
            )
            """,
        ],
    ]

    static var version: Int { migrations.count }

    /// Brings the database to `version`; returns the migrations applied (0 when already current).
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection -> Int in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS flamingo_schema_version (
                    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            var current = 0
            for try await (found) in try await connection.query("SELECT coalesce(max(version), 0) FROM flamingo_schema_version",
                                                                logger: logger).decode(Int.self) {
                current = found
            }
            if current > version { throw ClusterError.schemaTooNew(found: current, known: version) }
            for next in (current + 1)...max(current + 1, version) where next <= version {
                for statement in migrations[next - 1] {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO flamingo_schema_version (version) VALUES (\(next))", logger: logger)
            }
            return version - current
        }
    }
}
