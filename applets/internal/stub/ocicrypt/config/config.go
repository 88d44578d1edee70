// Package config is a stub of ocicrypt's: tw neither encrypts nor decrypts layers.
package config

type EncryptConfig struct {
	Parameters    map[string][][]byte
	DecryptConfig DecryptConfig
}

type DecryptConfig struct {
	Parameters map[string][][]byte
}
