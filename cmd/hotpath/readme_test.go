package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock is one fenced code block of the README.
type readmeBlock struct {
	Lang    string // the word after the opening fence: sh, json, ...
	Section string // the heading it is under
	Text    string
}

// readmeBlocks returns the README's fenced code blocks, in order.
func readmeBlocks(t *testing.T) []readmeBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &readmeBlock{Lang: strings.TrimSpace(strings.TrimPrefix(line, "```")), Section: section}
		case cur != nil && strings.HasPrefix(line, "```"):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.Text += line + "\n"
		case strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	return blocks
}

// readmeBlockIn returns the one block of lang under section, failing the
// test when there is not exactly one: the README and this test must move together.
func readmeBlockIn(t *testing.T, section, lang string) string {
	t.Helper()
	var found []string
	for _, b := range readmeBlocks(t) {
		if b.Section == section && b.Lang == lang {
			found = append(found, b.Text)
		}
	}
	if len(found) != 1 {
		t.Fatalf("README: %d %q blocks under %q, want 1", len(found), lang, section)
	}
	return found[0]
}
