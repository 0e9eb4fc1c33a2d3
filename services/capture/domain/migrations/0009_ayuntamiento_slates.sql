-- Ayuntamientos: an office may be one position of a municipality's slate (planilla): the
-- presidencia, a sindicatura or a regiduría (of mayoría relativa or, with principle `rp`, of the
-- municipality's proportional list). NULL: not part of a slate (deputies).
ALTER TABLE offices
    ADD COLUMN slate_role TEXT CHECK (slate_role IN ('presidencia', 'sindicatura', 'regiduria'));

-- How each municipality's ayuntamiento is made up: how many sindicaturas, regidurías of
-- mayoría relativa and regidurías of representación proporcional (they differ by size).
CREATE TABLE municipal_compositions (
    election_id        UUID    NOT NULL REFERENCES elections (id),
    municipality_code  TEXT    NOT NULL,
    syndics            INTEGER NOT NULL CHECK (syndics BETWEEN 0 AND 10),
    councillors_mr     INTEGER NOT NULL CHECK (councillors_mr BETWEEN 0 AND 60),
    councillors_rp     INTEGER NOT NULL CHECK (councillors_rp BETWEEN 0 AND 60),
    PRIMARY KEY (election_id, municipality_code)
);
