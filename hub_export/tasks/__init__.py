"""Task models on the encoder: reading the tasks' data files and scoring predictions as the benchmarks do."""
