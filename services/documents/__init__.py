"""Documents: project document libraries, versions, visibility, encrypted blobs."""
