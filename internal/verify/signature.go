package verify

import (
	"context"
	"fmt"

	"github.com/crossbin/crossbin/internal/registry"
	"github.com/crossbin/crossbin/internal/sign"
)

// Signature checks that the index tag points at carries a signature made
// by key's private half (internal/sign), as `cosign verify --key` would. It
// fails naming the index and "signature".
func Signature(ctx context.Context, reg registry.Client, tag string, key sign.Verifier) error {
	idx, err := reg.Index(ctx, tag)
	if err != nil {
		return fmt.Errorf("read %s: %w", tag, err)
	}
	if err := key.Check(ctx, reg, idx.Repository(), idx.Digest); err != nil {
		return fmt.Errorf("%s (index %s): %w", tag, idx.Digest, err)
	}
	return nil
}
