package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klp-playground/klp/lessons"
)

// buildLessons renders the lessons into out/lessons. It runs after web/ is
// copied, so lesson pages can use ../widget.js and friends.
func buildLessons(o options) error {
	if err := lessons.BuildSite(o.out); err != nil {
		return fmt.Errorf("lessons: %w", err)
	}
	var pages []string
	_ = filepath.WalkDir(o.out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			pages = append(pages, p)
		}
		return nil
	})
	fmt.Fprintf(o.log, "lessons: rendered (site now has %d HTML pages)\n", len(pages))
	return nil
}
