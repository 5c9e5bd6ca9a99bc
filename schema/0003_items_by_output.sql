-- Which job wrote a file: looked up at submit (and before --overwrite replaces one), so that no
-- job replaces a file it did not write.
CREATE INDEX items_by_output ON items (output);
