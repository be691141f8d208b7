-- Files Vitrina serves itself at /media/<name>: the JPEG sizes of the photos owners send from the chat.
-- Kept in the database, not on disk, so every instance serves them and a backup holds them. A name is made
-- from the photo's digest and never names other bytes, so a row is written once and never changed.
CREATE TABLE media (
    name         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    data         BLOB NOT NULL,
    created_at   TEXT NOT NULL
);
