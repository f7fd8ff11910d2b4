package attest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	spdxjson "github.com/spdx/tools-golang/json"
	"google.golang.org/protobuf/encoding/protojson"
)

var imageDigest = v1.Hash{Algorithm: "sha256", Hex: "9e1c4a3f7b2d5e8f0a6c1b3d5f7e9a2c4b6d8f0e1a3c5b7d9f2e4a6c8b0d1f3e"}

func TestStatement(t *testing.T) {
	doc, err := SBOM(dlvInfo(), dlvSubject())
	if err != nil {
		t.Fatal(err)
	}
	image := Image{Name: "ghcr.io/crossbin/dlv", Digest: imageDigest}
	out, err := Statement(doc, image)
	if err != nil {
		t.Fatal(err)
	}

	var st intoto.Statement
	if err := protojson.Unmarshal(out, &st); err != nil {
		t.Fatalf("parse the statement back: %v\n%s", err, out)
	}
	if err := st.Validate(); err != nil {
		t.Errorf("statement does not validate: %v", err)
	}
	if st.GetType() != "https://in-toto.io/Statement/v1" {
		t.Errorf("_type %q", st.GetType())
	}
	if st.GetPredicateType() != "https://spdx.dev/Document" {
		t.Errorf("predicateType %q", st.GetPredicateType())
	}
	if len(st.GetSubject()) != 1 {
		t.Fatalf("subjects %v, want the image", st.GetSubject())
	}
	sub := st.GetSubject()[0]
	if sub.GetName() != "ghcr.io/crossbin/dlv" || len(sub.GetDigest()) != 1 || sub.GetDigest()["sha256"] != imageDigest.Hex {
		t.Errorf("subject %v, want ghcr.io/crossbin/dlv at %s", sub, imageDigest)
	}

	// The predicate is the SPDX document itself: read it with the SPDX
	// library and it encodes to the same JSON as the document.
	predicate, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	read, err := spdxjson.Read(bytes.NewReader(predicate))
	if err != nil {
		t.Fatalf("predicate is not an SPDX document: %v", err)
	}
	want, err := JSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := JSON(read)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("predicate differs from the SBOM:\n%s\n--- want:\n%s", got, want)
	}

	var compact bytes.Buffer
	if err := json.Compact(&compact, out); err != nil || !bytes.Equal(compact.Bytes(), out) {
		t.Errorf("statement is not compact JSON (protojson's whitespace is not stable): %v", err)
	}
	again, err := Statement(doc, image)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) {
		t.Errorf("two statements of one document differ:\n%s\n%s", out, again)
	}
}

func TestStatementRejects(t *testing.T) {
	doc, err := SBOM(dlvInfo(), dlvSubject())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		images  []Image
		wantErr string
	}{
		{"no subject", nil, "at least one subject"},
		{"no name", []Image{{Digest: imageDigest}}, "subject without a name"},
		{"short digest", []Image{{Name: "ghcr.io/crossbin/dlv", Digest: v1.Hash{Algorithm: "sha256", Hex: "9e1c"}}}, "incorrect length"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Statement(doc, tc.images...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
