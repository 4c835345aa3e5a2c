package main

import (
	"go/build"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// specPath is the Go language specification that ships with every Go
// toolchain: the default corpus. The go command knows where the toolchain
// is; a binary run where there is none falls back on the root it was
// built with.
func specPath() string {
	root := ""
	if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
		root = strings.TrimSpace(string(out))
	}
	if root == "" {
		root = build.Default.GOROOT
	}
	return filepath.Join(root, "doc", "go_spec.html")
}

var (
	tagRE  = regexp.MustCompile(`(?s)<[^>]*>`)
	wordRE = regexp.MustCompile(`[a-z][a-z0-9_]*`)
)

// readCorpus returns the lower-case words of a text file; HTML tags are
// stripped and entities decoded first, for the spec.
func readCorpus(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := string(b)
	if strings.HasSuffix(path, ".html") || strings.Contains(text[:min(len(text), 512)], "<!--") {
		text = html.UnescapeString(tagRE.ReplaceAllString(text, " "))
	}
	return wordRE.FindAllString(strings.ToLower(text), -1), nil
}

// vocabulary keeps the words seen at least minCount times, most frequent
// first (ties alphabetical), at most limit of them.
func vocabulary(words []string, minCount, limit int) (vocab []string, index map[string]int) {
	count := map[string]int{}
	for _, w := range words {
		count[w]++
	}
	for w, n := range count {
		if n >= minCount {
			vocab = append(vocab, w)
		}
	}
	sort.Slice(vocab, func(i, j int) bool {
		a, b := vocab[i], vocab[j]
		return count[a] > count[b] || count[a] == count[b] && a < b
	})
	if len(vocab) > limit {
		vocab = vocab[:limit]
	}
	index = make(map[string]int, len(vocab))
	for i, w := range vocab {
		index[w] = i
	}
	return vocab, index
}

// cooc is one non-zero entry of the co-occurrence matrix.
type cooc struct {
	i, j int32
	x    float64
}

// cooccurrences counts, for every pair of vocabulary words within window
// words of each other, 1/distance, symmetrically, as GloVe does.
func cooccurrences(words []string, index map[string]int, window int) []cooc {
	ids := make([]int32, 0, len(words))
	for _, w := range words {
		if i, ok := index[w]; ok {
			ids = append(ids, int32(i))
		} else {
			ids = append(ids, -1)
		}
	}
	m := map[[2]int32]float64{}
	for a, i := range ids {
		if i < 0 {
			continue
		}
		for d := 1; d <= window && a+d < len(ids); d++ {
			j := ids[a+d]
			if j < 0 {
				continue
			}
			m[[2]int32{i, j}] += 1 / float64(d)
			m[[2]int32{j, i}] += 1 / float64(d)
		}
	}
	out := make([]cooc, 0, len(m))
	for k, x := range m {
		out = append(out, cooc{k[0], k[1], x})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].i < out[b].i || out[a].i == out[b].i && out[a].j < out[b].j })
	return out
}
