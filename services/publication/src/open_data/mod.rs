//! The open-data release (DESIGN §11): `candidaturas.csv`, `candidaturas.json`, `popolo.json`,
//! and `SHA256SUMS` over them signed with Ed25519 (`SHA256SUMS.sig`, raw 64 bytes; the public
//! key at `clave-publica`, PEM). A worker regenerates the release whenever the read model's
//! version moves, one candidacy at a time, and stores the data files gzip-compressed in pieces
//! of about 1 MiB as they are written ([`pieces`]): neither the worker nor a download holds a
//! file whole. The site sends them compressed or decompresses on the way.
//!
//! Check a download with OpenSSL:
//! `sha256sum -c SHA256SUMS` and
//! `openssl pkeyutl -verify -pubin -inkey clave-publica -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`.

pub mod pieces;

use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::model;
use crate::site::open_data_files;

pub const DATA_FILES: [&str; 3] = ["candidaturas.csv", "candidaturas.json", "popolo.json"];
pub const SUMS: &str = "SHA256SUMS";
pub const SIGNATURE: &str = "SHA256SUMS.sig";
pub const PUBLIC_KEY: &str = "clave-publica";

/// The key that signs releases: `PUBLICATION_SIGNING_KEY` (base64 of a 32-byte seed) in
/// production; otherwise one made on first start and kept in the database (development).
pub async fn signing_key(
    pool: &PgPool,
    configured: Option<&secrecy::SecretString>,
) -> anyhow::Result<SigningKey> {
    if let Some(value) = configured {
        use secrecy::ExposeSecret;
        let seed: [u8; 32] = base64::engine::general_purpose::STANDARD
            .decode(value.expose_secret().trim())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("PUBLICATION_SIGNING_KEY must be 32 bytes in base64"))?;
        return Ok(SigningKey::from_bytes(&seed));
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    sqlx::query("INSERT INTO signing_keys (seed) VALUES ($1) ON CONFLICT (id) DO NOTHING")
        .bind(seed.as_slice())
        .execute(pool)
        .await?;
    let stored: Vec<u8> = sqlx::query_scalar("SELECT seed FROM signing_keys")
        .fetch_one(pool)
        .await?;
    let seed: [u8; 32] = stored
        .try_into()
        .map_err(|_| anyhow::anyhow!("stored signing key is not 32 bytes"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The public key as PEM (SubjectPublicKeyInfo), readable by OpenSSL.
pub fn public_key_pem(key: &VerifyingKey) -> String {
    // DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410), then the 32-byte key.
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(key.as_bytes());
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

/// Reads the PEM that [`public_key_pem`] writes.
pub fn verifying_key_from_pem(pem: &str) -> anyhow::Result<VerifyingKey> {
    let der = base64::engine::general_purpose::STANDARD.decode(
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )?;
    let raw: [u8; 32] = der
        .get(12..)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| anyhow::anyhow!("the public key is not an Ed25519 key"))?;
    Ok(VerifyingKey::from_bytes(&raw)?)
}

/// The `SHA256SUMS` text of files given by name and hex digest, in the order given.
pub fn sums_of(digests: &[(&str, String)]) -> String {
    digests
        .iter()
        .map(|(name, digest)| format!("{digest}  {name}\n"))
        .collect()
}

/// The hex SHA-256 of each file, by name.
fn digests<'a>(files: &[(&'a str, &[u8])]) -> Vec<(&'a str, String)> {
    files
        .iter()
        .map(|(name, bytes)| (*name, hex::encode(Sha256::digest(bytes))))
        .collect()
}

/// The `SHA256SUMS` text of some files, in the order given.
pub fn sums(files: &[(&str, &[u8])]) -> String {
    sums_of(&digests(files))
}

/// Checks `SHA256SUMS` against the files and its signature against the key.
pub fn verify(
    key: &VerifyingKey,
    files: &[(&str, &[u8])],
    sums_text: &[u8],
    signature: &[u8],
) -> anyhow::Result<()> {
    verify_digests(key, &digests(files), sums_text, signature)
}

/// Checks `SHA256SUMS` against the files' digests and its signature against the key.
pub fn verify_digests(
    key: &VerifyingKey,
    digests: &[(&str, String)],
    sums_text: &[u8],
    signature: &[u8],
) -> anyhow::Result<()> {
    let signature = Signature::from_slice(signature)?;
    key.verify(sums_text, &signature)
        .map_err(|_| anyhow::anyhow!("SHA256SUMS.sig does not match SHA256SUMS"))?;
    anyhow::ensure!(
        sums_of(digests).as_bytes() == sums_text,
        "a file does not match SHA256SUMS"
    );
    Ok(())
}

/// A file of the release as stored: its digest (of the uncompressed content), how it is
/// stored, and where its bytes are.
pub struct Stored {
    pub sha256: String,
    /// The read model's version the release was generated from: its files share it, and it
    /// names the release in `/datos/version/{version}/`.
    pub version: i64,
    /// `gzip` or `identity`.
    pub encoding: String,
    generation: Option<Uuid>,
    size: Option<i64>,
    /// The bytes of a file not kept in pieces.
    content: Vec<u8>,
}

impl Stored {
    /// The file named `name`, if one was generated.
    pub async fn of(pool: &PgPool, name: &str) -> sqlx::Result<Option<Stored>> {
        /// `sha256`, `version`, `encoding`, `generation`, `size`, `content`.
        type Row = (String, i64, String, Option<Uuid>, Option<i64>, Vec<u8>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT sha256, version, encoding, generation, size, content FROM open_data_files WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(
            |(sha256, version, encoding, generation, size, content)| Stored {
                sha256,
                version,
                encoding,
                generation,
                size,
                content,
            },
        ))
    }

    /// The stored bytes (compressed when `encoding` says so), piece by piece.
    pub fn bytes(
        self,
        pool: &PgPool,
        name: &str,
    ) -> futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>> {
        use futures::StreamExt;
        match self.generation {
            Some(generation) => pieces::read(
                pool.clone(),
                generation,
                name.to_string(),
                self.size.unwrap_or(0),
            )
            .boxed(),
            None => {
                futures::stream::once(futures::future::ready(Ok(bytes::Bytes::from(self.content))))
                    .boxed()
            }
        }
    }

    /// The content as published, piece by piece: decompressed on the way when stored gzipped.
    pub fn content(
        self,
        pool: &PgPool,
        name: &str,
    ) -> futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>> {
        use futures::StreamExt;
        let gzipped = self.encoding == "gzip";
        let bytes = self.bytes(pool, name);
        if gzipped {
            pieces::gunzip(bytes).boxed()
        } else {
            bytes
        }
    }
}

/// The version of the release stored now (its `SHA256SUMS`'s), if one was generated.
pub async fn release(pool: &PgPool) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT version FROM open_data_files WHERE name = $1")
        .bind(SUMS)
        .fetch_optional(pool)
        .await
}

/// The whole content of a small file of the release (the sums, the signature, the key).
async fn small_file(pool: &PgPool, name: &str) -> anyhow::Result<Vec<u8>> {
    use futures::TryStreamExt;
    let stored = Stored::of(pool, name)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{name} has not been generated"))?;
    let pieces: Vec<bytes::Bytes> = stored.content(pool, name).try_collect().await?;
    Ok(pieces.concat())
}

/// Checks the stored release: every data file against `SHA256SUMS`, and `SHA256SUMS` against
/// its signature with the stored public key. Returns how many data files were checked.
pub async fn verify_stored(pool: &PgPool) -> anyhow::Result<usize> {
    use futures::TryStreamExt;
    let key = verifying_key_from_pem(std::str::from_utf8(&small_file(pool, PUBLIC_KEY).await?)?)?;
    let mut digests = Vec::new();
    for name in DATA_FILES {
        let stored = Stored::of(pool, name)
            .await?
            .ok_or_else(|| anyhow::anyhow!("{name} has not been generated"))?;
        let mut content = stored.content(pool, name);
        let mut hasher = Sha256::new();
        while let Some(piece) = content.try_next().await? {
            hasher.update(&piece);
        }
        digests.push((name, hex::encode(hasher.finalize())));
    }
    verify_digests(
        &key,
        &digests,
        &small_file(pool, SUMS).await?,
        &small_file(pool, SIGNATURE).await?,
    )?;
    Ok(digests.len())
}

/// One data file of a release as it is written: gzip-compressed, and hashed uncompressed; the
/// compressed bytes leave in pieces ([`Part::piece`]).
struct Part {
    name: &'static str,
    gz: flate2::write::GzEncoder<Vec<u8>>,
    sha: Sha256,
    pieces: i32,
    size: i64,
}

impl Part {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            gz: flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()),
            sha: Sha256::new(),
            pieces: 0,
            size: 0,
        }
    }

    fn push(&mut self, text: impl AsRef<[u8]>) -> std::io::Result<()> {
        use std::io::Write;
        self.sha.update(text.as_ref());
        self.gz.write_all(text.as_ref())
    }

    /// Stores the compressed bytes written so far as the next piece once they make one
    /// (`last`: whatever they are).
    async fn piece(&mut self, pool: &PgPool, generation: Uuid, last: bool) -> sqlx::Result<()> {
        let pending = self.gz.get_ref().len();
        if pending == 0 || (!last && pending < pieces::PIECE_BYTES) {
            return Ok(());
        }
        let bytes = std::mem::take(self.gz.get_mut());
        pieces::write(pool, generation, self.name, self.pieces, &bytes).await?;
        self.pieces += 1;
        self.size += bytes.len() as i64;
        Ok(())
    }

    /// Ends the file: its last piece stored; the compressed size and the digest of the
    /// uncompressed content.
    async fn finish(mut self, pool: &PgPool, generation: Uuid) -> anyhow::Result<(i64, String)> {
        self.gz.try_finish()?;
        self.piece(pool, generation, true).await?;
        Ok((self.size, hex::encode(self.sha.finalize())))
    }
}

/// The current read-model version.
pub async fn version(pool: &PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT version FROM read_model_version")
        .fetch_one(pool)
        .await
}

/// Builds, signs and stores the release of the published candidacies as of `version`; gives up
/// (storing nothing) when `stop` is cancelled.
pub async fn regenerate(
    pool: &PgPool,
    key: &SigningKey,
    stop: &CancellationToken,
) -> anyhow::Result<i64> {
    use futures::TryStreamExt;
    let version = version(pool).await?;
    let election = model::election(pool).await?;
    let name = election
        .as_ref()
        .map(|e| e.name.clone())
        .unwrap_or_default();
    let generation = Uuid::now_v7();
    let [csv_name, json_name, popolo_name] = DATA_FILES;
    let (mut csv, mut json, mut popolo) = (
        Part::new(csv_name),
        Part::new(json_name),
        Part::new(popolo_name),
    );
    let mut people = open_data_files::Popolo::default();
    csv.push(open_data_files::csv_header())?;
    json.push(format!(
        "{{\"election\":{},\"candidacies\":[\n",
        serde_json::to_string(&name)?
    ))?;
    popolo.push(open_data_files::Popolo::OPENING)?;
    if let Some(e) = &election {
        let mut all = std::pin::pin!(model::stream_all(pool, e.id));
        let mut first = true;
        let mut rows = 0u64;
        while let Some(p) = all.try_next().await? {
            rows += 1;
            anyhow::ensure!(
                !rows.is_multiple_of(1024) || !stop.is_cancelled(),
                "stopped"
            );
            if !first {
                json.push(",\n")?;
            }
            first = false;
            csv.push(open_data_files::csv_lines(&p))?;
            json.push(open_data_files::public_json(&p).to_string())?;
            popolo.push(&people.add(&name, &p)?)?;
            for part in [&mut csv, &mut json, &mut popolo] {
                part.piece(pool, generation, false).await?;
            }
        }
    }
    json.push("\n]}\n")?;
    let mut closing = people.finish()?;
    while let Some(block) = closing.next_block()? {
        popolo.push(&block)?;
        popolo.piece(pool, generation, false).await?;
    }
    let parts = [
        csv.finish(pool, generation).await?,
        json.finish(pool, generation).await?,
        popolo.finish(pool, generation).await?,
    ];
    let digests: Vec<(&str, String)> = DATA_FILES
        .iter()
        .zip(&parts)
        .map(|(name, (_, digest))| (*name, digest.clone()))
        .collect();
    let sums_text = sums_of(&digests);
    let signature = key.sign(sums_text.as_bytes()).to_bytes();
    let pem = public_key_pem(&key.verifying_key());
    let now = Utc::now();
    // The data files by their pieces (`content` empty), the small files whole; a data file's
    // generation before this one is kept while downloads that started on it finish.
    /// Name, content, digest, encoding, generation, size.
    type File<'a> = (&'a str, &'a [u8], String, &'a str, Option<Uuid>, i64);
    let mut files: Vec<File> = DATA_FILES
        .iter()
        .zip(&parts)
        .map(|(name, (size, digest))| {
            (
                *name,
                &b""[..],
                digest.clone(),
                "gzip",
                Some(generation),
                *size,
            )
        })
        .collect();
    for (name, bytes) in [
        (SUMS, sums_text.as_bytes()),
        (SIGNATURE, signature.as_slice()),
        (PUBLIC_KEY, pem.as_bytes()),
    ] {
        let digest = hex::encode(Sha256::digest(bytes));
        files.push((name, bytes, digest, "identity", None, bytes.len() as i64));
    }
    let mut tx = pool.begin().await?;
    for (name, content, digest, encoding, generation, size) in files {
        sqlx::query(
            "INSERT INTO open_data_files (name, content, sha256, version, generated_at, encoding, generation, size) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET content = EXCLUDED.content, sha256 = EXCLUDED.sha256, \
             version = EXCLUDED.version, generated_at = EXCLUDED.generated_at, encoding = EXCLUDED.encoding, \
             previous_generation = CASE WHEN EXCLUDED.generation IS NULL THEN NULL ELSE open_data_files.generation END, \
             generation = EXCLUDED.generation, size = EXCLUDED.size",
        )
        .bind(name)
        .bind(content)
        .bind(digest)
        .bind(version)
        .bind(now)
        .bind(encoding)
        .bind(generation)
        .bind(size)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    pieces::forget_unused(pool).await?;
    Ok(version)
}

/// How long the worker rests after a regeneration that took `took`: nine times as long, so it
/// spends at most a tenth of its time regenerating, and never less than `every`. At the demo's
/// scale (tens of milliseconds) the release follows the read model within a second; at national
/// scale (100,000 profiles, half a minute of formatting and compression) every few minutes,
/// instead of holding a core through a campaign's stream of approvals.
pub fn rest_after(took: Duration, every: Duration) -> Duration {
    (took * 9).max(every)
}

/// The PostgreSQL advisory lock the open-data worker holds while it regenerates: a version is
/// regenerated by one replica; the others find the release current, or it being made.
pub const REGENERATION_LOCK: i64 = 0x6f70_656e_6461_7461; // "opendata"

/// What one turn of the open-data worker did.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn {
    /// The stored release is of the read model's current version.
    Current(i64),
    /// This replica regenerated it for that version.
    Regenerated(i64),
    /// Another replica is regenerating it (holds [`REGENERATION_LOCK`]).
    Busy,
}

/// The version of the stored release (of its oldest file), if there is one.
async fn stored_version(pool: &PgPool) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT min(version) FROM open_data_files")
        .fetch_one(pool)
        .await
}

/// One turn: nothing when the stored release is current; otherwise it is regenerated here,
/// unless another replica holds the lock. Needs three connections of `pool`: the lock's, the
/// profiles' stream and the pieces' writes.
pub async fn turn(
    pool: &PgPool,
    key: &SigningKey,
    stop: &CancellationToken,
) -> anyhow::Result<Turn> {
    let current = version(pool).await?;
    if stored_version(pool).await? >= Some(current) {
        return Ok(Turn::Current(current));
    }
    let mut lock = pool.acquire().await?;
    let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(REGENERATION_LOCK)
        .fetch_one(&mut *lock)
        .await?;
    if !held {
        return Ok(Turn::Busy);
    }
    // The replica that held the lock may have just made this version.
    let result = match stored_version(pool).await {
        Ok(stored) if stored >= Some(current) => Ok(Turn::Current(current)),
        Ok(_) => regenerate(pool, key, stop).await.map(Turn::Regenerated),
        Err(e) => Err(e.into()),
    };
    let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(REGENERATION_LOCK)
        .execute(&mut *lock)
        .await;
    result
}

/// Regenerates the release whenever the read model moved (checked every `every`, resting after
/// each regeneration as [`rest_after`] says); of all the replicas, one at a time ([`turn`]).
pub async fn worker(pool: PgPool, key: SigningKey, every: Duration, stop: CancellationToken) {
    loop {
        let mut rest = every;
        let started = std::time::Instant::now();
        match turn(&pool, &key, &stop).await {
            Ok(Turn::Regenerated(v)) => {
                let took = started.elapsed();
                tracing::info!(
                    version = v,
                    took_ms = took.as_millis() as u64,
                    "open data regenerated"
                );
                rest = rest_after(took, every);
            }
            Ok(Turn::Current(_) | Turn::Busy) => {}
            Err(_) if stop.is_cancelled() => return,
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "open data not regenerated"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(rest) => {}
        }
    }
}

/// [`worker`] on a thread of its own, with its own runtime and connections: a regeneration at
/// national scale is tens of seconds of formatting and compression, which must not hold the
/// runtime's threads that serve the site and consume approvals.
pub async fn worker_apart(
    config: conoceles_kit::ServiceConfig,
    key: SigningKey,
    every: Duration,
    stop: CancellationToken,
) {
    let (done, finished) = tokio::sync::oneshot::channel::<()>();
    let spawned = std::thread::Builder::new()
        .name("open-data".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!(error = %e, "open data worker without a runtime");
                    return;
                }
            };
            runtime.block_on(async move {
                match conoceles_kit::db::connect_and_migrate(&config.database_url, 3, &crate::MIGRATOR)
                    .await
                {
                    Ok(pool) => {
                        worker(pool.clone(), key, every, stop).await;
                        pool.close().await;
                    }
                    Err(e) => tracing::error!(error = %format!("{e:#}"), "open data worker without a database"),
                }
            });
            let _ = done.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = finished.await;
        }
        Err(e) => tracing::error!(error = %e, "open data worker thread not started"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_release_verifies_and_a_changed_byte_does_not() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let csv = b"ID_CANDIDATURA\r\n1\r\n".to_vec();
        let json = b"{}".to_vec();
        let files: [(&str, &[u8]); 2] = [("candidaturas.csv", &csv), ("candidaturas.json", &json)];
        let text = sums(&files);
        let signature = key.sign(text.as_bytes()).to_bytes();
        verify(&key.verifying_key(), &files, text.as_bytes(), &signature).unwrap();
        let mut changed = csv.clone();
        changed[0] ^= 1;
        let tampered: [(&str, &[u8]); 2] =
            [("candidaturas.csv", &changed), ("candidaturas.json", &json)];
        assert!(verify(&key.verifying_key(), &tampered, text.as_bytes(), &signature).is_err());
        let mut forged = text.clone().into_bytes();
        forged[0] ^= 1;
        assert!(verify(&key.verifying_key(), &files, &forged, &signature).is_err());
        assert!(
            public_key_pem(&key.verifying_key())
                .starts_with("-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA")
        );
    }

    #[test]
    fn the_worker_rests_nine_times_what_a_regeneration_took_and_at_least_its_period() {
        let every = Duration::from_secs(1);
        assert_eq!(rest_after(Duration::from_millis(40), every), every);
        assert_eq!(
            rest_after(Duration::from_secs(30), every),
            Duration::from_secs(270)
        );
    }
}
