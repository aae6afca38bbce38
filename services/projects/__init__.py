"""Projects: projects, their stages and the history of every move."""
