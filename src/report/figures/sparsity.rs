//! Sparsity ("spy") plots of Z and of the Cholesky factor, with marks merged so the SVG stays
//! small.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::*;
use super::style::*;
use super::FigureError;

/// Most rectangles a spy plot may contain. One `<rect>` is about 90 bytes of SVG, so this keeps
/// the file well under 2 MB whatever the pattern.
pub(super) const MAX_SPY_RECTS: usize = 15_000;
/// Cells at least this many pixels wide are drawn one by one with a small gap, so neighbouring
/// nonzeros of a small matrix stay distinguishable.
pub(super) const SPY_GAP_MIN_PX: f64 = 5.0;
/// The plot keeps square cells unless that would make it thinner (or flatter) than this fraction
/// of the space available; a 342×18 pattern is then stretched sideways rather than drawn as a
/// sliver.
pub(super) const SPY_MIN_FILL: f64 = 0.35;

/// Spy plot of a sparse pattern (`width`×`height`): a dark mark for each structural nonzero
/// `(row, column)` (0-based), row 0 at the top; tick labels show 1-based indices as in R's
/// `Matrix::image`. When the matrix has more rows or columns than the plot has pixels, nonzeros
/// are aggregated into pixel-sized blocks (a block is marked if any entry in it is nonzero), and
/// blocks are made coarser still if needed to keep the SVG small; a note under the plot states
/// the block size.
pub fn sparsity(
    title: &str,
    nrows: usize,
    ncols: usize,
    nonzeros: &[(usize, usize)],
    width: u32,
    height: u32,
) -> Result<String, FigureError> {
    if !(200..=10_000).contains(&width) || !(200..=10_000).contains(&height) {
        return Err(FigureError::InvalidInput(format!(
            "sparsity: canvas {width}×{height} must be between 200 and 10000 px on each side"
        )));
    }
    if let Some(&(r, c)) = nonzeros.iter().find(|&&(r, c)| r >= nrows || c >= ncols) {
        return Err(FigureError::InvalidInput(format!(
            "sparsity: nonzero ({r}, {c}) outside a {nrows}×{ncols} matrix"
        )));
    }

    // Layout in pixels: title, column axis on top, row axis on the left, a note at the bottom.
    // Space the plot does not fill (it keeps square cells) is split evenly around it.
    let title_h = 34u32;
    let top_axis_h = 44u32;
    let note_h = 26u32;
    let left_pad = 8u32;
    let right_pad = 16u32;
    let row_digits = nrows.max(1).to_string().len() as f64;
    let left_axis_w = (row_digits * CHAR_W).ceil() as u32 + 14 + 26;
    let avail_w = width
        .saturating_sub(left_pad + left_axis_w + right_pad)
        .max(1) as f64;
    let avail_h = height.saturating_sub(title_h + top_axis_h + note_h).max(1) as f64;
    let (rows_f, cols_f) = (nrows.max(1) as f64, ncols.max(1) as f64);
    let cell = (avail_w / cols_f).min(avail_h / rows_f);
    let plot_w = (cell * cols_f)
        .max(SPY_MIN_FILL * avail_w)
        .min(avail_w)
        .round() as u32;
    let plot_h = (cell * rows_f)
        .max(SPY_MIN_FILL * avail_h)
        .min(avail_h)
        .round() as u32;
    let slack_w = (avail_w as u32).saturating_sub(plot_w);
    let slack_h = (avail_h as u32).saturating_sub(plot_h);
    let plot_left = left_pad + slack_w / 2 + left_axis_w;
    let plot_top = title_h + slack_h / 2 + top_axis_h;

    // Index ticks (1-based) placed at cell centres: round multiples, plus the first and last
    // index where they do not crowd a neighbour (a narrow axis may have no multiple at all).
    let index_ticks = |n: usize, pixels: u32| -> Vec<usize> {
        if n == 0 {
            return Vec::new();
        }
        let (nice, _) = nice_ticks(1.0, n as f64, ticks_for(pixels, 45));
        let mut ticks: Vec<usize> = nice
            .into_iter()
            .filter(|&t| t >= 1.0 && t.fract() == 0.0)
            .map(|t| t as usize)
            .collect();
        let min_gap = (30.0 * n as f64 / f64::from(pixels.max(1))).ceil() as usize;
        if ticks.first().is_none_or(|&t| t > min_gap.max(1)) {
            ticks.insert(0, 1);
        }
        if ticks.last().is_some_and(|&t| t < n && n - t >= min_gap) {
            ticks.push(n);
        }
        ticks
    };
    let col_ticks = index_ticks(ncols, plot_w);
    let row_ticks = index_ticks(nrows, plot_h);
    let x_axis = Axis {
        lo: 0.0,
        hi: cols_f,
        ticks: col_ticks.iter().map(|&t| t as f64 - 0.5).collect(),
        labels: col_ticks.iter().map(|t| t.to_string()).collect(),
    };
    let y_axis = Axis {
        lo: 0.0,
        hi: rows_f,
        ticks: row_ticks.iter().map(|&t| rows_f - t as f64 + 0.5).collect(),
        labels: row_ticks.iter().map(|t| t.to_string()).collect(),
    };

    let marks = spy_marks(nrows, ncols, nonzeros, plot_w, plot_h);
    let mut note = format!(
        "{nrows} × {ncols}, {} structural nonzero{}",
        nonzeros.len(),
        if nonzeros.len() == 1 { "" } else { "s" }
    );
    if marks.block != (1, 1) {
        note.push_str(&format!(
            "; each mark is a block of up to {} × {} entries",
            marks.block.0, marks.block.1
        ));
    }

    render((width, height), |root| {
        root.draw_text(
            title,
            &title_font().pos(Pos::new(HPos::Center, VPos::Top)),
            // The title moves down with the plot so it stays attached to it.
            (width as i32 / 2, (10 + slack_h / 2) as i32),
        )?;
        let inner = root.margin(
            title_h + slack_h / 2,
            note_h + slack_h - slack_h / 2,
            left_pad + slack_w / 2,
            right_pad + slack_w - slack_w / 2,
        );
        let mut chart = ChartBuilder::on(&inner)
            .top_x_label_area_size(top_axis_h)
            .y_label_area_size(left_axis_w)
            .build_cartesian_2d(x_axis.clone(), y_axis.clone())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(AXIS)
            .label_style(tick_font())
            .axis_desc_style(desc_font())
            .x_desc("Column")
            .y_desc("Row")
            .draw()?;

        // Matrix row r spans chart y in [nrows - r - 1, nrows - r]: row 0 at the top.
        let to_chart = |r0: f64, r1: f64, c0: f64, c1: f64| [(c0, rows_f - r0), (c1, rows_f - r1)];
        chart.draw_series(
            marks
                .rects
                .iter()
                .map(|m| Rectangle::new(to_chart(m.r0, m.r1, m.c0, m.c1), SPY_INK.filled())),
        )?;
        // A frame, since the pattern has no grid and the plot has only two axis lines.
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (cols_f, rows_f)],
            AXIS.stroke_width(1),
        )))?;

        // The note is centred under the plot, but shifted inwards if it would run off the
        // canvas (a narrow plot of a tall matrix sits in the middle of a wider note).
        let plot_bottom = (plot_top + plot_h) as i32;
        let plot_centre = f64::from(plot_left) + f64::from(plot_w) / 2.0;
        let half_note = note.chars().count() as f64 * CHAR_W / 2.0;
        let note_x = plot_centre
            .min(f64::from(width) - half_note - 4.0)
            .max(half_note + 4.0);
        root.draw_text(
            &note,
            &tick_font()
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Top)),
            (note_x.round() as i32, plot_bottom + 8),
        )?;
        Ok(())
    })
}

/// One filled rectangle of a spy plot, in (fractional) matrix row/column units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SpyRect {
    pub(super) r0: f64,
    pub(super) r1: f64,
    pub(super) c0: f64,
    pub(super) c1: f64,
}

/// The rectangles of a spy plot and the block size (rows, columns) each grid cell stands for.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SpyMarks {
    pub(super) rects: Vec<SpyRect>,
    pub(super) block: (usize, usize),
}

/// Bins the nonzeros into a grid no finer than the plot's pixels, then turns occupied cells into
/// rectangles: one per cell (with a gap) when cells are large, otherwise one per horizontal run
/// of occupied cells. If that is still more than [`MAX_SPY_RECTS`], the grid is shrunk by a
/// quarter in each direction and the binning repeated; a 1×1 grid needs one rectangle and every
/// step shrinks a grid larger than that, so this terminates.
pub(super) fn spy_marks(
    nrows: usize,
    ncols: usize,
    nonzeros: &[(usize, usize)],
    plot_w: u32,
    plot_h: u32,
) -> SpyMarks {
    if nrows == 0 || ncols == 0 || nonzeros.is_empty() {
        return SpyMarks {
            rects: Vec::new(),
            block: (1, 1),
        };
    }
    let mut grid_rows = nrows.min(plot_h.max(1) as usize);
    let mut grid_cols = ncols.min(plot_w.max(1) as usize);
    loop {
        // u128 products: index × grid size cannot overflow whatever the matrix dimensions.
        let bin = |i: usize, n: usize, g: usize| (i as u128 * g as u128 / n as u128) as usize;
        let mut cells: Vec<(usize, usize)> = nonzeros
            .iter()
            .map(|&(r, c)| (bin(r, nrows, grid_rows), bin(c, ncols, grid_cols)))
            .collect();
        cells.sort_unstable();
        cells.dedup();

        let row_edge = |g: usize| g as f64 * nrows as f64 / grid_rows as f64;
        let col_edge = |g: usize| g as f64 * ncols as f64 / grid_cols as f64;
        let cell_px = (plot_w as f64 / grid_cols as f64).min(plot_h as f64 / grid_rows as f64);
        let block = (nrows.div_ceil(grid_rows), ncols.div_ceil(grid_cols));

        if cell_px >= SPY_GAP_MIN_PX && cells.len() <= MAX_SPY_RECTS {
            // Inset each cell by ~8% of its size (in matrix units) on every side.
            let (inset_r, inset_c) = (
                0.08 * nrows as f64 / grid_rows as f64,
                0.08 * ncols as f64 / grid_cols as f64,
            );
            let rects = cells
                .iter()
                .map(|&(gr, gc)| SpyRect {
                    r0: row_edge(gr) + inset_r,
                    r1: row_edge(gr + 1) - inset_r,
                    c0: col_edge(gc) + inset_c,
                    c1: col_edge(gc + 1) - inset_c,
                })
                .collect();
            return SpyMarks { rects, block };
        }

        let mut rects = Vec::new();
        let mut i = 0;
        while i < cells.len() {
            let (gr, start) = cells[i];
            let mut end = start;
            while i + 1 < cells.len() && cells[i + 1] == (gr, end + 1) {
                end += 1;
                i += 1;
            }
            rects.push(SpyRect {
                r0: row_edge(gr),
                r1: row_edge(gr + 1),
                c0: col_edge(start),
                c1: col_edge(end + 1),
            });
            i += 1;
        }
        if rects.len() <= MAX_SPY_RECTS || (grid_rows == 1 && grid_cols == 1) {
            return SpyMarks { rects, block };
        }
        // Gentle steps keep as much resolution as the budget allows.
        grid_rows = (grid_rows * 3 / 4).max(1);
        grid_cols = (grid_cols * 3 / 4).max(1);
    }
}
