//! The data files of a release in pieces (publication migration 0016): written as they are
//! compressed, read one at a time as they are sent, so neither the worker nor a download holds
//! a file whole (~170 MB compressed at national scale).

use std::io::Write;

use axum::body::Bytes;
use futures::{Stream, StreamExt};
use sqlx::PgPool;
use uuid::Uuid;

/// The compressed bytes a piece holds, about.
pub const PIECE_BYTES: usize = 1024 * 1024;

/// Stores piece `seq` of `name` in `generation`.
pub async fn write(
    pool: &PgPool,
    generation: Uuid,
    name: &str,
    seq: i32,
    content: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO open_data_chunks (generation, name, seq, content) VALUES ($1, $2, $3, $4)",
    )
    .bind(generation)
    .bind(name)
    .bind(seq)
    .bind(content)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes the pieces of generations no file is read from any longer (neither the current nor
/// the previous one) and that no worker is still writing (nothing written for ten minutes).
pub async fn forget_unused(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM open_data_chunks c \
         WHERE NOT EXISTS (SELECT 1 FROM open_data_files f \
                           WHERE c.generation IN (f.generation, f.previous_generation)) \
           AND NOT EXISTS (SELECT 1 FROM open_data_chunks w \
                           WHERE w.generation = c.generation AND w.written_at > now() - interval '10 minutes')",
    )
    .execute(pool)
    .await?
    .rows_affected())
}

/// The pieces of `name` in `generation`, in order, each read when the one before was taken
/// (one short query each: a slow download holds no connection between pieces). Fails if the
/// pieces end before `size` bytes.
pub fn read(
    pool: PgPool,
    generation: Uuid,
    name: String,
    size: i64,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    futures::stream::try_unfold((0i32, 0i64), move |(seq, sent)| {
        let (pool, name) = (pool.clone(), name.clone());
        async move {
            if sent >= size {
                return Ok(None);
            }
            let piece: Option<Vec<u8>> = sqlx::query_scalar(
                "SELECT content FROM open_data_chunks WHERE generation = $1 AND name = $2 AND seq = $3",
            )
            .bind(generation)
            .bind(&name)
            .bind(seq)
            .fetch_optional(&pool)
            .await
            .map_err(std::io::Error::other)?;
            let Some(piece) = piece.filter(|p| !p.is_empty()) else {
                return Err(std::io::Error::other(format!(
                    "{name}: piece {seq} missing after {sent} of {size} bytes"
                )));
            };
            let next = (seq + 1, sent + piece.len() as i64);
            Ok(Some((Bytes::from(piece), next)))
        }
    })
}

/// `pieces` of gzip decompressed on the way, each on the blocking pool (a 1 MiB piece is
/// several megabytes of text).
pub fn gunzip(
    pieces: impl Stream<Item = std::io::Result<Bytes>> + Send + 'static,
) -> impl Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    type Decoder = flate2::write::GzDecoder<Vec<u8>>;
    let start = (pieces.boxed(), Some(Decoder::new(Vec::new())));
    futures::stream::try_unfold(start, |(mut pieces, mut decoder)| async move {
        loop {
            let Some(mut current) = decoder.take() else {
                return Ok(None);
            };
            let piece = pieces.next().await;
            let (next, out) = tokio::task::spawn_blocking(move || match piece {
                Some(Ok(bytes)) => {
                    current.write_all(&bytes)?;
                    let out = std::mem::take(current.get_mut());
                    Ok((Some(current), out))
                }
                Some(Err(e)) => Err(e),
                None => current.finish().map(|out| (None, out)),
            })
            .await
            .map_err(std::io::Error::other)??;
            decoder = next;
            if !out.is_empty() {
                return Ok(Some((Bytes::from(out), (pieces, decoder))));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    #[tokio::test]
    async fn pieces_of_gzip_decompress_to_the_whole() {
        let text: String = (0..200_000).map(|i| format!("línea {i}\n")).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let compressed = gz.finish().unwrap();
        let pieces: Vec<std::io::Result<Bytes>> = compressed
            .chunks(7_001)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let out: Vec<Bytes> = gunzip(futures::stream::iter(pieces))
            .try_collect()
            .await
            .unwrap();
        assert_eq!(out.concat(), text.as_bytes());
        // A failed piece ends the download with the error, not a short file.
        let failing = futures::stream::iter(vec![
            Ok(Bytes::copy_from_slice(&compressed[..1000])),
            Err(std::io::Error::other("piece missing")),
        ]);
        let result: std::io::Result<Vec<Bytes>> = gunzip(failing).try_collect().await;
        assert!(result.is_err());
    }
}
