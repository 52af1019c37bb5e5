-- The weights set are the right ones: nothing to undo.
SELECT 1;
