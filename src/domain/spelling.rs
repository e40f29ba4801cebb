//! Words in messages: how far apart two are, to tell a typo (`promt`, `debg`) from another
//! word, and a count with its unit in the singular or plural.

/// The optimal string alignment distance, by characters: insertions, deletions, substitutions
/// and swaps of two neighbours (`modle` is one step from `model`) each count one. Words whose
/// lengths differ by more than [`FAR`] are only told apart by that difference (a lower bound),
/// so a name of megabytes costs no table of its length times the other's.
pub fn distance(a: &str, b: &str) -> usize {
    let apart = a.chars().count().abs_diff(b.chars().count());
    if apart > FAR {
        return apart;
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between the first i characters of a and the first j of b.
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// How far apart in length two words may be for [`distance`] to measure them exactly: much more
/// than any typo it is asked to recognise.
pub const FAR: usize = 16;

/// `1 second`, `2 seconds`: a count and its unit, singular or plural (units whose plural
/// takes an `s`).
pub fn count(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_every_other_count_plural() {
        assert_eq!(count(1, "second"), "1 second");
        assert_eq!(count(0, "call"), "0 calls");
        assert_eq!(count(120, "call"), "120 calls");
    }

    #[test]
    fn a_swap_of_neighbours_is_one_step() {
        assert_eq!(distance("modle", "model"), 1);
        assert_eq!(distance("modle", "role"), 2);
    }

    #[test]
    fn insertions_deletions_and_substitutions_count_one_each() {
        assert_eq!(distance("promt", "prompt"), 1);
        assert_eq!(distance("debg", "debug"), 1);
        assert_eq!(distance("inf0", "info"), 1);
        assert_eq!(distance("", "id"), 2);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn a_name_of_megabytes_is_told_apart_by_its_length_alone() {
        let long = "x".repeat(8 * 1024 * 1024);
        assert_eq!(distance(&long, "prompt"), long.len() - 6);
    }
}
