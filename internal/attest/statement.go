package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/spdx/tools-golang/spdx"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// PredicateSPDX is the in-toto predicate type of an SPDX document, the one
// BuildKit and cosign use for SPDX SBOMs.
const PredicateSPDX = "https://spdx.dev/Document"

// Image is an image an attestation is about: its name (a repository such as
// ghcr.io/crossbin/dlv) and the digest of its platform manifest.
type Image struct {
	Name   string
	Digest v1.Hash
}

// Statement wraps doc in an in-toto v1 statement about images, with
// predicate type PredicateSPDX, and returns its compact JSON.
//
// The statement is the library's protobuf type, validated before it is
// encoded. protojson varies its whitespace on purpose (so nobody relies on
// its bytes); the output is compacted with encoding/json, which makes it
// deterministic: Struct keys are sorted, and the rest is field order.
func Statement(doc *spdx.Document, images ...Image) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, fmt.Errorf("in-toto statement for %s: %w", doc.DocumentName, err)
	}
	sbom, err := JSON(doc)
	if err != nil {
		return fail(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(sbom, &fields); err != nil {
		return fail(err)
	}
	predicate, err := structpb.NewStruct(fields)
	if err != nil {
		return fail(fmt.Errorf("SPDX document as predicate: %w", err))
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		PredicateType: PredicateSPDX,
		Predicate:     predicate,
	}
	for _, img := range images {
		if img.Name == "" {
			return fail(errors.New("subject without a name"))
		}
		st.Subject = append(st.Subject, &intoto.ResourceDescriptor{
			Name:   img.Name,
			Digest: map[string]string{img.Digest.Algorithm: img.Digest.Hex},
		})
	}
	if err := st.Validate(); err != nil {
		return fail(err)
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return fail(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return fail(err)
	}
	return out.Bytes(), nil
}
