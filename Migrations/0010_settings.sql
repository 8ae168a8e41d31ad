-- Server-wide settings, one value per name (e.g. the check value of the secret key).
-- name is NOT NULL explicitly: an SQLite rowid table would otherwise accept a NULL TEXT PRIMARY KEY, which
-- PostgreSQL (Migrations/postgres/0001_init.sql) never does.
CREATE TABLE happydesk_settings (name TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
