-- Twin of 0011_scoped_roles.sql: roles `lead` and `owner`, their groups and services, and the indexes a
-- scoped dashboard reads. PostgreSQL changes the CHECK in place (the column constraint's default name).
ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('analyst', 'manager', 'admin', 'integration', 'lead', 'owner'));

CREATE TABLE user_scopes (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind    TEXT NOT NULL CHECK (kind IN ('group', 'service')),
    name    TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    PRIMARY KEY (user_id, kind, name)
);

-- Scopes match ignoring ASCII case on both backends: lower() under the C collation folds ASCII only, as SQLite's does.
CREATE INDEX rollup_counted_group ON rollup_counted (lower(group_name COLLATE "C"), day);
CREATE INDEX rollup_counted_service ON rollup_counted (lower(service COLLATE "C"), day);
