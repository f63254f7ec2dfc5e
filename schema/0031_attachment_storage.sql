-- Attachments are read in slices (downloads, archive exports): stored uncompressed out of line,
-- a slice reads only its own pages instead of decompressing the whole value each time.
-- They are mostly PDFs and images, compressed already.
ALTER TABLE attachments ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE archive_export_chunks ALTER COLUMN content SET STORAGE EXTERNAL;
