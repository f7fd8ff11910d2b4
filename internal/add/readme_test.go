package add

import "testing"

func TestSummary(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"markdown", "# yq\n![Build](https://x/badge.svg)  ![Pulls](https://y)\n\nA lightweight and portable command-line YAML, JSON, INI and XML processor. `yq` uses [jq](https://github.com/stedolan/jq) like syntax.\n",
			"A lightweight and portable command-line YAML, JSON, INI and XML processor"},
		{"html first", "<img src=\"assets/k9s.png\" alt=\"k9s\">\n\n## K9s - Kubernetes CLI\n\nK9s provides a terminal UI to interact with your Kubernetes clusters.\nThe aim of this project is to make it easier.\n",
			"K9s provides a terminal UI to interact with your Kubernetes clusters"},
		{"rst over two lines", "SOPS: Secrets OPerationS\n========================\n\n**SOPS** is an editor of encrypted files that supports YAML, JSON, ENV, INI and BINARY\nformats and encrypts with AWS KMS.\n",
			"SOPS is an editor of encrypted files that supports YAML, JSON, ENV, INI and BINARY formats and encrypts with AWS KMS"},
		{"too long", "Tool\n====\n\n**Tool** is an editor of encrypted files that supports YAML, JSON, ENV, INI and BINARY formats and encrypts with AWS KMS, GCP KMS, Azure Key Vault and PGP.\n", ""},
		{"bullets", "# x\n\n* one two three four\n- five six seven eight\n\nThis tool does four things well.\n", "This tool does four things well"},
		{"short rst", "Tool\n====\n\n**Tool** formats files. It is fast.\n", "Tool formats files"},
		{"code only", "```sh\ngo install example.com/x@latest\n```\n", ""},
		{"links only", "See https://example.com for the docs of this tool.\n", ""},
		{"a link line in the paragraph", "SOPS\n====\n\n**SOPS** is an editor of encrypted files. It is nice.\n(`demo <https://www.youtube.com/watch?v=Y>`_)\n\nMozilla Public License Version 2.0\n", "SOPS is an editor of encrypted files"},
		{"only the first prose paragraph", "Tool\n====\n\nTool is an editor of encrypted files that supports YAML, JSON, ENV, INI and BINARY formats and encrypts with AWS KMS, GCP KMS and PGP.\n\nMozilla Public License Version 2.0\n", ""},
	} {
		if got := summary(tc.text); got != tc.want {
			t.Errorf("%s: summary = %q; want %q", tc.name, got, tc.want)
		}
	}
}
