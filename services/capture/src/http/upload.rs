//! The fields of a multipart form (the uploads of photos, consent forms, catalogs, candidacies
//! and bulk capture), read once; each page says in its own words why a read failed.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::Multipart;

/// Why the form could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadError {
    /// A field's content was cut off or over the body limit.
    Field,
    /// The form itself was malformed or interrupted.
    Form,
    /// A field passed its own limit: reading stopped there, nothing more was buffered.
    TooLarge { field: String, limit: usize },
    /// Another upload of the same account is in progress.
    Busy,
}

impl UploadError {
    /// What the person is told.
    pub fn message(&self) -> String {
        match self {
            Self::Field => "No se pudo leer el archivo. Intente de nuevo.".into(),
            Self::Form => "El envío se interrumpió o el formulario llegó incompleto. Intente de nuevo.".into(),
            Self::TooLarge { limit, .. } => {
                format!("El archivo pesa más de {}, el máximo permitido.", size(*limit))
            }
            Self::Busy => {
                "Ya hay un archivo de su cuenta cargándose. Espere a que termine e intente de nuevo."
                    .into()
            }
        }
    }

    /// The answer's status.
    pub fn status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::Field | Self::Form => StatusCode::BAD_REQUEST,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Busy => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

/// A limit in the unit people read: "700 KB", "8 MB".
pub fn size(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else {
        format!("{} KB", bytes / 1024)
    }
}

/// Receives an account's upload: its turn (one at a time per account), then the form read
/// chunk by chunk up to `limit` bytes per field. The turn is held until the caller drops it.
pub async fn receive(
    account: uuid::Uuid,
    multipart: Multipart,
    limit: usize,
) -> Result<(Turn, Uploaded), UploadError> {
    let turn = Turn::take(account).ok_or(UploadError::Busy)?;
    let form = Uploaded::read_limited(multipart, limit).await?;
    Ok((turn, form))
}

/// An account's turn to upload: one upload at a time per account, so that one party's
/// concurrent uploads cannot hold every decoding slot and the memory they need while others wait.
pub struct Turn(uuid::Uuid);

static UPLOADING: std::sync::Mutex<Vec<uuid::Uuid>> = std::sync::Mutex::new(Vec::new());

impl Turn {
    /// The account's turn, unless one of its uploads is in progress.
    pub fn take(account: uuid::Uuid) -> Option<Self> {
        let mut uploading = UPLOADING.lock().unwrap_or_else(|e| e.into_inner());
        if uploading.contains(&account) {
            return None;
        }
        uploading.push(account);
        Some(Self(account))
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut uploading = UPLOADING.lock().unwrap_or_else(|e| e.into_inner());
        uploading.retain(|a| *a != self.0);
    }
}

/// The form's fields by name (the last one wins).
#[derive(Default)]
pub struct Uploaded(HashMap<String, Bytes>);

impl Uploaded {
    /// Reads the form chunk by chunk, stopping as soon as one field passes `limit` bytes (the
    /// election's photo limit, say): a body of megabytes is never held whole to be refused.
    pub async fn read_limited(mut multipart: Multipart, limit: usize) -> Result<Self, UploadError> {
        let mut fields = HashMap::new();
        loop {
            match multipart.next_field().await {
                Ok(Some(mut field)) => {
                    let name = field.name().unwrap_or_default().to_string();
                    let mut data = Vec::new();
                    loop {
                        match field.chunk().await {
                            Ok(Some(chunk)) => {
                                if data.len() + chunk.len() > limit {
                                    return Err(UploadError::TooLarge { field: name, limit });
                                }
                                data.extend_from_slice(&chunk);
                            }
                            Ok(None) => break,
                            Err(_) => return Err(UploadError::Field),
                        }
                    }
                    fields.insert(name, Bytes::from(data));
                }
                Ok(None) => return Ok(Self(fields)),
                Err(_) => return Err(UploadError::Form),
            }
        }
    }

    /// A text field ("" when absent).
    pub fn text(&self, name: &str) -> String {
        self.0
            .get(name)
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default()
    }

    /// A file field's bytes (`None` when absent).
    pub fn file(&self, name: &str) -> Option<Vec<u8>> {
        self.0.get(name).map(|b| b.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::{Turn, UploadError, size};

    #[test]
    fn limits_read_in_the_unit_people_use() {
        assert_eq!(size(700 * 1024), "700 KB");
        assert_eq!(size(8 * 1024 * 1024), "8 MB");
        let refused = UploadError::TooLarge {
            field: "archivo".into(),
            limit: 2 * 1024 * 1024,
        };
        assert_eq!(
            refused.message(),
            "El archivo pesa más de 2 MB, el máximo permitido."
        );
        assert_eq!(refused.status().as_u16(), 413);
        assert_eq!(UploadError::Busy.status().as_u16(), 429);
    }

    #[test]
    fn an_account_uploads_one_file_at_a_time() {
        let (party, other) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let first = Turn::take(party).expect("the first upload");
        assert!(Turn::take(party).is_none(), "a second one waits");
        let _theirs = Turn::take(other).expect("another account is not held up");
        drop(first);
        assert!(Turn::take(party).is_some(), "after the first ends");
    }
}
