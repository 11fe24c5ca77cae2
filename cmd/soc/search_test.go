package main

import (
	"strings"
	"testing"
)

func TestSearchConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  SearchConfig
		want []string // substrings of the error; none: valid
	}{
		{"the embedded default", SearchConfig{Index: "soc-search"}, nil},
		{"elasticsearch", SearchConfig{ElasticsearchURL: "http://127.0.0.1:9200", Index: "soc-search"}, nil},
		{"opensearch with a user", SearchConfig{OpenSearchURL: "https://127.0.0.1:9200", Username: "u", Password: "p", Index: "soc-search"}, nil},
		{"both servers", SearchConfig{ElasticsearchURL: "http://a:9200", OpenSearchURL: "http://b:9200"}, []string{"--elasticsearch-url", "--opensearch-url", "not both"}},
		{"a password without a server", SearchConfig{Password: "p"}, []string{"--search-password", "without a search server"}},
		{"not a URL", SearchConfig{OpenSearchURL: "127.0.0.1:9200", Index: "soc-search"}, []string{"--opensearch-url/SOC_OPENSEARCH_URL"}},
		{"a bad index name", SearchConfig{ElasticsearchURL: "http://127.0.0.1:9200", Index: "Has Spaces"}, []string{"--elasticsearch-url/SOC_ELASTICSEARCH_URL", "Has Spaces"}},
	} {
		err := tc.cfg.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: valid, want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tc.name, err, w)
			}
		}
	}
}

func TestSearchServerSecretsNeverShow(t *testing.T) {
	c := SearchConfig{ElasticsearchURL: "http://user:hunter2@127.0.0.1:9200", Index: "Bad Index"}
	if err := c.Validate(); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error %v shows the URL's password (or there is none)", err)
	}
}
