package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

// writeFavicon writes favicon.ico: browsers ask for /favicon.ico on pages
// that name no icon (the lesson pages, the scenario reference), and a 404
// there shows as a console error. It is web/favicon.svg drawn at 32×32
// (a PNG inside an ICO container, which every browser accepts).
func writeFavicon(path string) error {
	const n = 32
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	bg := color.NRGBA{0x1f, 0x4e, 0x79, 0xff}
	fg := color.NRGBA{0xff, 0xd1, 0x66, 0xff}
	// rounded square
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if inRounded(float64(x)+0.5, float64(y)+0.5, n, 6) {
				img.Set(x, y, bg)
			}
		}
	}
	// the zigzag of the SVG: 7,22 → 13,10 → 19,22 → 25,10, 3 px wide
	pts := [][2]float64{{7, 22}, {13, 10}, {19, 22}, {25, 10}}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			for i := 0; i+1 < len(pts); i++ {
				if segDist(px, py, pts[i], pts[i+1]) <= 1.5 {
					img.Set(x, y, fg)
				}
			}
		}
	}
	var p bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		return err
	}
	var ico bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image
	binary.Write(&ico, binary.LittleEndian, [3]uint16{0, 1, 1})
	// ICONDIRENTRY: width, height (0 = 256; here 32), colours, reserved,
	// planes, bit count, size of the PNG, offset of the PNG (6+16)
	ico.Write([]byte{n, n, 0, 0})
	binary.Write(&ico, binary.LittleEndian, [2]uint16{1, 32})
	binary.Write(&ico, binary.LittleEndian, [2]uint32{uint32(p.Len()), 22})
	ico.Write(p.Bytes())
	return os.WriteFile(path, ico.Bytes(), 0o644)
}

func inRounded(x, y float64, n int, r float64) bool {
	s := float64(n)
	cx := math.Max(r, math.Min(s-r, x))
	cy := math.Max(r, math.Min(s-r, y))
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

func segDist(px, py float64, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((px-a[0])*dx + (py-a[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	ex, ey := a[0]+t*dx-px, a[1]+t*dy-py
	return math.Sqrt(ex*ex + ey*ey)
}
