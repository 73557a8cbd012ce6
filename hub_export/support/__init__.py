"""What every layer shares and no layer above owns: errors, logging, atomic outputs, file names and the
command plumbing. Imports nothing else of the package, so any module may import it."""
