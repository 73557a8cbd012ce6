"""BERT WordPiece tokenization: vocab files, exact text rules in graph ops, input packing."""
