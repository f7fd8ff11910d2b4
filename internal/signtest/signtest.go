// Package signtest gives tests a cosign key pair made with internal/sign:
// written to files as `cosign generate-key-pair` would, and loaded back.
package signtest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/crossbin/crossbin/internal/sign"
)

// Keys is a key pair on disk and loaded.
type Keys struct {
	Signer          *sign.Signer
	Verifier        sign.Verifier
	Private, Public string // the files
	Password        []byte
}

// KeyPair makes the key pair name in a temporary directory of t.
func KeyPair(t testing.TB, name string) Keys {
	t.Helper()
	k := Keys{Password: []byte("pw-" + name)}
	priv, pub, err := sign.GenerateKeyPair(k.Password)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	k.Private, k.Public = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(k.Private, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.Public, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if k.Signer, err = sign.LoadKey(k.Private, k.Password); err != nil {
		t.Fatal(err)
	}
	if k.Verifier, err = sign.LoadPublicKey(k.Public); err != nil {
		t.Fatal(err)
	}
	return k
}
