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
}

/// The form's fields by name (the last one wins).
#[derive(Default)]
pub struct Uploaded(HashMap<String, Bytes>);

impl Uploaded {
    pub async fn read(mut multipart: Multipart) -> Result<Self, UploadError> {
        let mut fields = HashMap::new();
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_string();
                    let data = field.bytes().await.map_err(|_| UploadError::Field)?;
                    fields.insert(name, data);
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
