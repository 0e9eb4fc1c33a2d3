//! The shared identifiers (`conoceles.common.v1.*Id`) to and from the UUIDs the services hold:
//! one conversion each way, next to the messages, instead of `{ value: id.to_string() }` at every
//! call site.

use uuid::Uuid;

use crate::common::v1::{AccountId, CandidacyId, ElectionId, PartyId, PersonId};

macro_rules! uuid_ids {
    ($($id:ident),*) => {$(
        impl From<Uuid> for $id {
            fn from(id: Uuid) -> Self {
                Self { value: id.to_string() }
            }
        }

        impl From<&Uuid> for $id {
            fn from(id: &Uuid) -> Self {
                Self::from(*id)
            }
        }

        impl $id {
            /// The UUID it carries, if `value` is one.
            pub fn uuid(&self) -> Option<Uuid> {
                Uuid::parse_str(&self.value).ok()
            }
        }
    )*};
}

uuid_ids!(AccountId, CandidacyId, ElectionId, PartyId, PersonId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_goes_to_its_message_and_back() {
        let id = Uuid::now_v7();
        let message = CandidacyId::from(id);
        assert_eq!(message.value, id.to_string());
        assert_eq!(message.uuid(), Some(id));
        assert_eq!(CandidacyId { value: "no".into() }.uuid(), None);
    }
}
