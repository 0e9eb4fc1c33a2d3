-- A municipality's page reads its slates only: at national scale (~2,400 municipalities, every
-- slate) that is a few dozen rows among hundreds of thousands.
CREATE INDEX profiles_slates ON profiles (election_id, constituency_code) WHERE slate_role <> '';
