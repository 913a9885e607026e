// Pinned build of age-keygen: the age keys for sops are made at setup and test time.
module imagebuilding-hubs/tools/age

go 1.26

require filippo.io/age v1.2.1

require (
	filippo.io/edwards25519 v1.1.0 // indirect
	golang.org/x/crypto v0.24.0 // indirect
	golang.org/x/sys v0.21.0 // indirect
	golang.org/x/term v0.21.0 // indirect
)
