"""The admin area (/admin): versioned configuration documents, their editor, simulator and publishing."""
