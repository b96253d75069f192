//! Transparency log figures (issue 6): `cargo bench --bench log`.
//!
//! - **append** on SQLite in one process: entries recorded in business-sized
//!   transactions (100 per commit), then sequenced with one signed checkpoint
//!   per batch — against the baseline of inserting the same entry bytes into
//!   a bare table with the same commits, measured in the same run. Twice:
//!   version-1 entries alone, and (issue 16) a stamps row with its
//!   version-2 entry, which reads the row back and commits to every column
//!   (personal ones as HMACs), against inserting the row alone.
//! - **proofs** on a log of 1,000,000 entries: RFC 9162 inclusion and
//!   consistency proofs, generated and verified, from the in-memory tree and
//!   from the stored tree in SQLite, against one SHA-256 leaf hash.
//! - **audit** of that 1,000,000-entry log: `govseal log audit` as a child
//!   process under `/usr/bin/time -v`, for wall time and peak memory.
//!
//! The 1,000,000-entry database is built once (about two minutes) under
//! `target/bench-log-1m-v2` and reused; delete it to rebuild. Each entry is a
//! version-2 `stamp` entry committing to its stamps row, whose output is a
//! 64-byte stand-in for the PDF, so the audit re-derives every record and
//! its time is measured.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group};
use govseal::config::Config;
use govseal::log::{EntryKind, MemoryTree, leaf_hash, verify_consistency, verify_inclusion};
use govseal::server::{Prepared, prepare};
use govseal::transparency::{self, Event};

const MILLION: u64 = 1_000_000;
const APPEND_BATCH: u64 = 1_000;
const PER_COMMIT: u64 = 100;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn installation(dir: &Path) -> Prepared {
    let mut config = Config::new(dir.to_path_buf());
    config.certs_dir = dir.join("certs");
    config.admin_token = Some("bench-admin-token-0123456789abcdef".into());
    config.master_key = Some("42".repeat(32).into());
    prepare(config).await.expect("installation")
}

/// Pseudo-random but repeatable indices.
fn spread(i: u64, n: u64) -> u64 {
    i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % n
}

fn append(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let app = rt.block_on(installation(dir.path()));
    let db = &app.state.db;
    rt.block_on(async {
        sqlx::query("CREATE TABLE bench_plain (id TEXT PRIMARY KEY, entry BLOB NOT NULL)")
            .execute(&db.pool)
            .await
            .unwrap();
    });
    let mut group = c.benchmark_group("log append, SQLite, 100 per commit");
    group.throughput(Throughput::Elements(APPEND_BATCH));
    group.sample_size(10);
    let mut counter = 0u64;
    group.bench_function("baseline: insert the entry bytes", |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations * APPEND_BATCH / PER_COMMIT {
                    let mut tx = db.begin().await.unwrap();
                    for _ in 0..PER_COMMIT {
                        counter += 1;
                        sqlx::query("INSERT INTO bench_plain (id, entry) VALUES ($1, $2)")
                            .bind(format!("plain-{counter}"))
                            .bind(vec![7u8; 120])
                            .execute(&mut *tx)
                            .await
                            .unwrap();
                    }
                    tx.commit().await.unwrap();
                }
                started.elapsed()
            })
        })
    });
    group.bench_function("record, sequence and sign a checkpoint", |b| {
        b.iter_custom(|iterations| {
            rt.block_on(async {
                let started = Instant::now();
                for _ in 0..iterations {
                    for _ in 0..APPEND_BATCH / PER_COMMIT {
                        let mut tx = db.begin().await.unwrap();
                        for _ in 0..PER_COMMIT {
                            counter += 1;
                            let subject = format!("bench-{counter}");
                            transparency::record(
                                &mut tx,
                                Event {
                                    kind: EntryKind::Stamp,
                                    subject_id: &subject,
                                    department_uscc: None,
                                    artefact: subject.as_bytes(),
                                    actor: "bench",
                                    details: &[],
                                    record: None,
                                },
                            )
                            .await
                            .unwrap();
                        }
                        tx.commit().await.unwrap();
                    }
                    transparency::sequence_all(db, &app.log_key, 4096)
                        .await
                        .unwrap();
                }
                started.elapsed()
            })
        })
    });
    group.finish();

    let department = rt.block_on(bench_department(&app));
    let mut group = c.benchmark_group("stamp row + log entry, SQLite, 100 per commit");
    group.throughput(Throughput::Elements(APPEND_BATCH));
    group.sample_size(10);
    for with_entry in [false, true] {
        let name = if with_entry {
            "row + version-2 entry, sequenced and checkpointed"
        } else {
            "baseline: the row alone"
        };
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iterations {
                        for _ in 0..APPEND_BATCH / PER_COMMIT {
                            let mut tx = db.begin().await.unwrap();
                            for _ in 0..PER_COMMIT {
                                counter += 1;
                                let id = format!("bench-stamp-{counter}");
                                let output = insert_stamp(&mut tx, &department, &id, counter).await;
                                if with_entry {
                                    log_stamp(&mut tx, &app, &id, &output).await;
                                }
                            }
                            tx.commit().await.unwrap();
                        }
                        if with_entry {
                            transparency::sequence_all(db, &app.log_key, 4096)
                                .await
                                .unwrap();
                        }
                    }
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn proofs_in_memory(c: &mut Criterion) {
    let leaves: Vec<_> = (0..MILLION).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let tree = MemoryTree::from_leaf_hashes(leaves);
    let root = tree.root(MILLION).unwrap();
    let mut group = c.benchmark_group("log proofs, 1,000,000 leaves, in memory");
    group.bench_function("baseline: one leaf hash", |b| {
        b.iter(|| leaf_hash(black_box(&[0u8; 120])))
    });
    let mut i = 0u64;
    group.bench_function("inclusion proof: generate and verify", |b| {
        b.iter(|| {
            i += 1;
            let index = spread(i, MILLION);
            let path = tree.inclusion_proof(index, MILLION).unwrap();
            let leaf = tree.leaves()[index as usize];
            verify_inclusion(&leaf, index, MILLION, &path, &root).unwrap();
        })
    });
    group.bench_function("consistency proof: generate and verify", |b| {
        b.iter(|| {
            i += 1;
            let first = 1 + spread(i, MILLION - 1);
            let path = tree.consistency_proof(first, MILLION).unwrap();
            let old = tree.root(first).unwrap();
            verify_consistency(first, MILLION, &old, &root, &path).unwrap();
        })
    });
    group.finish();
}

/// A department and its seal, for stamps rows.
async fn bench_department(app: &Prepared) -> (String, String) {
    let db = &app.state.db;
    let department = govseal::department::create_department(
        db,
        &app.state.keys,
        &app.state.authority,
        govseal::department::NewDepartment {
            name: "基准测试局".into(),
            uscc: "91350100M000100Y43".into(),
            parent_id: None,
        },
    )
    .await
    .unwrap();
    let seal = govseal::seal::registry::create_seal(
        db,
        &app.state.keys,
        &app.state.authority,
        &govseal::access::Principal::Admin,
        serde_json::from_value(serde_json::json!({
            "department_id": department.id, "type": "approval"
        }))
        .unwrap(),
    )
    .await
    .unwrap();
    (department.id, seal.id)
}

/// A stamps row whose output is a 64-byte stand-in for the PDF, with an
/// operator (a personal column: committed to as an HMAC).
async fn insert_stamp(
    conn: &mut govseal::store::Connection,
    (department, seal): &(String, String),
    id: &str,
    n: u64,
) -> Vec<u8> {
    let output = leaf_hash(&n.to_be_bytes()).repeat(2);
    sqlx::query(
        "INSERT INTO stamps (id, department_id, seal_id, actor, operator, level, page, x, y, \
         size_mm, input_sha256, output_sha256, output_pdf, request_sha256, created_at) \
         VALUES ($1, $2, $3, 'bench', '王小明', 'B-LT', 1, 100.0, 100.0, 42.0, $4, $5, $6, $4, 0)",
    )
    .bind(id)
    .bind(department)
    .bind(seal)
    .bind(hex::encode([0u8; 32]))
    .bind(hex::encode(transparency::sha256(&output)))
    .bind(&output)
    .execute(&mut *conn)
    .await
    .unwrap();
    output
}

/// The stamp's version-2 entry, as the stamping use case writes it.
async fn log_stamp(conn: &mut govseal::store::Connection, app: &Prepared, id: &str, output: &[u8]) {
    let commitments = app.state.keys.commitment_key();
    transparency::record(
        conn,
        Event {
            kind: EntryKind::Stamp,
            subject_id: id,
            department_uscc: Some("91350100M000100Y43"),
            artefact: output,
            actor: "bench",
            details: &[],
            record: Some((&transparency::records::STAMPS, commitments.as_deref())),
        },
    )
    .await
    .unwrap();
}

fn million_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-log-1m-v2")
}

/// Builds (once) an installation whose log holds at least 1,000,000 stamp entries.
async fn million_log() -> Prepared {
    let dir = million_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let app = installation(&dir).await;
    let db = &app.state.db;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stamps")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    if have as u64 >= MILLION {
        return app;
    }
    eprintln!("building a log of {MILLION} entries in {} …", dir.display());
    let started = Instant::now();
    let department = bench_department(&app).await;
    for chunk in 0..MILLION / 10_000 {
        let mut tx = db.begin().await.unwrap();
        for i in 0..10_000u64 {
            let n = chunk * 10_000 + i;
            let id = format!("stamp-{n:08}");
            let output = insert_stamp(&mut tx, &department, &id, n).await;
            log_stamp(&mut tx, &app, &id, &output).await;
        }
        tx.commit().await.unwrap();
        transparency::sequence_all(db, &app.log_key, 16_384)
            .await
            .unwrap();
    }
    eprintln!("built in {:.1} s", started.elapsed().as_secs_f64());
    app
}

fn proofs_stored(c: &mut Criterion) {
    let rt = runtime();
    // The pooled connection returns itself to the pool on drop, which needs the runtime.
    let _enter = rt.enter();
    let app = rt.block_on(million_log());
    let mut conn = rt.block_on(app.state.db.pool.acquire()).unwrap();
    let size = rt
        .block_on(transparency::proofs::latest_checkpoint(&mut conn))
        .unwrap()
        .unwrap()
        .size;
    let mut group = c.benchmark_group("log proofs, 1,000,000+ entries, SQLite");
    let mut i = 0u64;
    group.bench_function("inclusion proof from the stored tree", |b| {
        b.iter(|| {
            i += 1;
            rt.block_on(transparency::proofs::inclusion(
                &mut conn,
                spread(i, size),
                size,
            ))
            .unwrap()
        })
    });
    group.bench_function("consistency proof from the stored tree", |b| {
        b.iter(|| {
            i += 1;
            rt.block_on(transparency::proofs::consistency(
                &mut conn,
                1 + spread(i, size - 1),
                size,
            ))
            .unwrap()
        })
    });
    group.finish();
}

/// The audit of the 1,000,000-entry log, in its own process.
fn audit_million() {
    let dir = million_dir();
    let time = Path::new("/usr/bin/time");
    let mut command = if time.exists() {
        let mut c = std::process::Command::new(time);
        c.arg("-v").arg(env!("CARGO_BIN_EXE_govseal"));
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_govseal"))
    };
    let started = Instant::now();
    let out = command
        .args(["log", "audit", "--data"])
        .arg(&dir)
        .arg("--certs")
        .arg(dir.join("certs"))
        .env("GOVSEAL_MASTER_KEY", "42".repeat(32))
        .output()
        .expect("run govseal log audit");
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak = stderr
        .lines()
        .find(|l| l.contains("Maximum resident set size"))
        .unwrap_or("Maximum resident set size: (no /usr/bin/time)");
    println!(
        "log audit of {}: exit {:?}, {:.2} s wall; {}\n{}",
        dir.display(),
        out.status.code(),
        wall.as_secs_f64(),
        peak.trim(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
    assert!(out.status.success(), "the audit failed: {stderr}");
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = append, proofs_in_memory, proofs_stored
}

fn main() {
    benches();
    audit_million();
    Criterion::default().configure_from_args().final_summary();
}
