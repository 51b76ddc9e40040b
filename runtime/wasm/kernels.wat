;; SIMD kernels of tsgrad's tensor runtime, in WebAssembly text.
;;
;; Built by runtime/wasm/build.ts (wabt's wat2wasm) into kernels.bytes.ts. Each function below
;; that mentions {T} is a template written once for both element types and expanded twice:
;;
;;   {T}      f32            f64            the scalar type
;;   {V}      f32x4          f64x2          the vector shape (always 16 bytes, {L} lanes)
;;   {L}      4              2              lanes per vector
;;   {SHIFT}  2              3              log2 of the element size in bytes
;;   {TILE}   8              4              columns in matmul's tile of 2 vectors
;;   {E}      4              8              bytes per element ({E2}, {E3}, {E4}: 2, 3, 4 elements)
;;   {SPLAT}  v128.load32_splat  v128.load64_splat   one element loaded into every lane
;;   {ONES}   f32x4 1 1 1 1  f64x2 1 1      a vector of ones
;;   {TO_T}   f32.demote_f64 (nothing)      the f64 on the stack as a {T}
;;
;; and a function that mentions {op} once more for each elementwise binary op, with {OP} the
;; instructions that turn the two vectors on the stack into the result (build.ts lists them:
;; add, sub, mul, div, max, gt, mask).
;;
;; Conventions the JavaScript side (runtime/wasm/kernels.ts) keeps:
;; - pointers are byte offsets into this module's memory; every operand sits in its own
;;   slot, 16-byte aligned and followed by at least 64 bytes of padding;
;; - elementwise kernels work on whole vectors: a length of n processes ceil(n / {L})
;;   vectors, reading the padding after an input and writing the padding after the output,
;;   which the caller never reads back. So there are no scalar tails here.

(module
  (memory (export "memory") 1)

  ;; ---------------------------------------------------------------------------
  ;; Elementwise binary ops: out = a {op} b over n elements.

  ;; both operands vectors: out[i] = a[i] {op} b[i]
  (func (export "{op}_vv_{T}") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const {SHIFT}))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        local.get $out
        (v128.load (local.get $a))
        (v128.load (local.get $b))
        {OP}
        v128.store
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))

  ;; b one element, read once and splatted: out[i] = a[i] {op} b
  (func (export "{op}_vs_{T}") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32) (local $bv v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const {SHIFT}))))
    (local.set $bv ({V}.splat ({T}.load (local.get $b))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        local.get $out
        (v128.load (local.get $a))
        local.get $bv
        {OP}
        v128.store
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))

  ;; a one element: out[i] = a {op} b[i]
  (func (export "{op}_sv_{T}") (param $a i32) (param $b i32) (param $out i32) (param $n i32)
    (local $end i32) (local $av v128)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $n) (i32.const {SHIFT}))))
    (local.set $av ({V}.splat ({T}.load (local.get $a))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        local.get $out
        local.get $av
        (v128.load (local.get $b))
        {OP}
        v128.store
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $next))))

  ;; ---------------------------------------------------------------------------
  ;; Reductions

  ;; Sum of a vector's lanes, in float64.
  (func $lanes_f32 (param $v v128) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v)))
               (f64.promote_f32 (f32x4.extract_lane 1 (local.get $v))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $v)))
               (f64.promote_f32 (f32x4.extract_lane 3 (local.get $v))))))
  (func $lanes_f64 (param $v v128) (result f64)
    (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))

  ;; Sum of n elements (the caller zeroes the padding of the last vector). Four vector
  ;; accumulators hide the add latency; every 64 vectors they are folded into a float64
  ;; total, so a long float32 sum loses no more than a short one.
  (func (export "sum_all_{T}") (param $a i32) (param $n i32) (result f64)
    (local $end i32) (local $blockEnd i32) (local $total f64)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    ;; round the end up to whole groups of four vectors: the caller's padding is zero
    (local.set $end
      (i32.add (local.get $a)
        (i32.and (i32.add (i32.shl (local.get $n) (i32.const {SHIFT})) (i32.const 63)) (i32.const -64))))
    (block $done
      (loop $block
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $blockEnd (i32.add (local.get $a) (i32.const 1024)))
        (if (i32.gt_u (local.get $blockEnd) (local.get $end)) (then (local.set $blockEnd (local.get $end))))
        (local.set $s0 (v128.const i64x2 0 0))
        (local.set $s1 (v128.const i64x2 0 0))
        (local.set $s2 (v128.const i64x2 0 0))
        (local.set $s3 (v128.const i64x2 0 0))
        (loop $next
          (local.set $s0 ({V}.add (local.get $s0) (v128.load (local.get $a))))
          (local.set $s1 ({V}.add (local.get $s1) (v128.load offset=16 (local.get $a))))
          (local.set $s2 ({V}.add (local.get $s2) (v128.load offset=32 (local.get $a))))
          (local.set $s3 ({V}.add (local.get $s3) (v128.load offset=48 (local.get $a))))
          (local.set $a (i32.add (local.get $a) (i32.const 64)))
          (br_if $next (i32.lt_u (local.get $a) (local.get $blockEnd))))
        (local.set $total
          (f64.add (local.get $total)
            (call $lanes_{T} ({V}.add ({V}.add (local.get $s0) (local.get $s1)) ({V}.add (local.get $s2) (local.get $s3))))))
        (br $block)))
    (local.get $total))

  ;; Column sums of a [rows, cols] block: out[j] = sum over r of a[r * cols + j], for the
  ;; bias gradient (sumTo [N, H] -> [H]) and sums over a leading axis. Each row is added
  ;; into out as whole vectors; a row's last vector runs into the next row, which only
  ;; ever lands in out's padding.
  (func (export "sum_rows_{T}") (param $a i32) (param $rows i32) (param $cols i32) (param $out i32)
    (local $o i32) (local $end i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const {SHIFT})))
    (local.set $end (i32.add (local.get $out) (local.get $rowBytes)))
    ;; out = 0
    (local.set $o (local.get $out))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $o) (local.get $end)))
        (v128.store (local.get $o) (v128.const i64x2 0 0))
        (local.set $o (i32.add (local.get $o) (i32.const 16)))
        (br $zero)))
    ;; out += each row
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $o (local.get $out))
        (block $rowDone
          (loop $next
            (br_if $rowDone (i32.ge_u (local.get $o) (local.get $end)))
            (v128.store (local.get $o) ({V}.add (v128.load (local.get $o)) (v128.load (local.get $a))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (local.set $o (i32.add (local.get $o) (i32.const 16)))
            (br $next)))
        ;; back from the end of the whole vectors to the start of the next row
        (local.set $a (i32.sub (local.get $a) (i32.sub (i32.sub (local.get $o) (local.get $out)) (local.get $rowBytes))))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; Row sums of a [rows, len] block: out[r] = sum over j of a[r * len + j] (sums over the
  ;; last axis). Whole vectors, then the rest of the row one element at a time.
  (func (export "sum_last_{T}") (param $a i32) (param $rows i32) (param $len i32) (param $out i32)
    (local $vecEnd i32) (local $rowEnd i32) (local $acc v128) (local $rest {T})
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $rowEnd (i32.add (local.get $a) (i32.shl (local.get $len) (i32.const {SHIFT}))))
        (local.set $vecEnd (i32.add (local.get $a) (i32.and (i32.shl (local.get $len) (i32.const {SHIFT})) (i32.const -16))))
        (local.set $acc (v128.const i64x2 0 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $a) (local.get $vecEnd)))
            (local.set $acc ({V}.add (local.get $acc) (v128.load (local.get $a))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))
            (br $vec)))
        (local.set $rest ({T}.const 0))
        (block $restDone
          (loop $one
            (br_if $restDone (i32.ge_u (local.get $a) (local.get $rowEnd)))
            (local.set $rest ({T}.add (local.get $rest) ({T}.load (local.get $a))))
            (local.set $a (i32.add (local.get $a) (i32.const {E})))
            (br $one)))
        local.get $out
        (call $lanes_{T} (local.get $acc))
        {TO_T}
        (local.get $rest)
        {T}.add
        {T}.store
        (local.set $out (i32.add (local.get $out) (i32.const {E})))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))

  ;; ---------------------------------------------------------------------------
  ;; Transpose: dst[j * rows + i] = src[i * cols + j]. In bands of 8 source rows, so the
  ;; 8 destination elements each column step writes are contiguous, and the 8 source rows
  ;; a band reads stay in cache.
  (func (export "transpose_{T}") (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32)
    (local $i i32) (local $band i32) (local $j i32) (local $s i32) (local $d i32)
    (local $srcRow i32) (local $dstRow i32)
    (local.set $srcRow (i32.shl (local.get $cols) (i32.const {SHIFT})))
    (local.set $dstRow (i32.shl (local.get $rows) (i32.const {SHIFT})))
    (block $bandsDone
      (loop $bands
        (br_if $bandsDone (i32.ge_s (local.get $band) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $eachCol
            (br_if $colsDone (i32.ge_s (local.get $j) (local.get $cols)))
            ;; s walks down column j from row `band`, d along destination row j
            (local.set $s
              (i32.add (local.get $src)
                (i32.shl (i32.add (i32.mul (local.get $band) (local.get $cols)) (local.get $j)) (i32.const {SHIFT}))))
            (local.set $d
              (i32.add (local.get $dst)
                (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $band)) (i32.const {SHIFT}))))
            (local.set $i (i32.add (local.get $band) (i32.const 8)))
            (if (i32.gt_s (local.get $i) (local.get $rows)) (then (local.set $i (local.get $rows))))
            (local.set $i (i32.sub (local.get $i) (local.get $band)))
            (block $rowsDone
              (loop $eachRow
                (br_if $rowsDone (i32.eqz (local.get $i)))
                ({T}.store (local.get $d) ({T}.load (local.get $s)))
                (local.set $s (i32.add (local.get $s) (local.get $srcRow)))
                (local.set $d (i32.add (local.get $d) (i32.const {E})))
                (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                (br $eachRow)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $eachCol)))
        (local.set $band (i32.add (local.get $band) (i32.const 8)))
        (br $bands))))

  ;; ---------------------------------------------------------------------------
  ;; Matrix product C = A·B: both operands packed into the order the product reads them.

  ;; Packs A for matmul: each block of 4 rows becomes k groups of 4 elements (one
  ;; from each row: A(i, p), A(i+1, p), A(i+2, p), A(i+3, p)), so the product reads a block
  ;; front to back. A's element (i, p) is at a + (i * rsA + p * csA) elements: A stored as
  ;; itself (rsA = k, csA = 1) or as its transpose (rsA = 1, csA = m), which is how
  ;; matmul(transpose(X), dmm) never builds the transpose. Rows past m read padding.
  (func (export "pack_a_{T}") (param $a i32) (param $rsA i32) (param $csA i32) (param $m i32) (param $k i32) (param $dst i32)
    (local $i i32) (local $p i32) (local $src i32) (local $rowBytes i32) (local $stepBytes i32)
    (local.set $rowBytes (i32.shl (local.get $rsA) (i32.const {SHIFT})))
    (local.set $stepBytes (i32.shl (local.get $csA) (i32.const {SHIFT})))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_s (local.get $i) (local.get $m)))
        (local.set $src (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $rowBytes))))
        (local.set $p (local.get $k))
        (block $stepsDone
          (loop $steps
            (br_if $stepsDone (i32.eqz (local.get $p)))
            ({T}.store offset=0 (local.get $dst) ({T}.load (local.get $src)))
            ({T}.store offset={E} (local.get $dst) ({T}.load (i32.add (local.get $src) (local.get $rowBytes))))
            ({T}.store offset={E2} (local.get $dst)
              ({T}.load (i32.add (local.get $src) (i32.shl (local.get $rowBytes) (i32.const 1)))))
            ({T}.store offset={E3} (local.get $dst)
              ({T}.load (i32.add (local.get $src) (i32.mul (local.get $rowBytes) (i32.const 3)))))
            (local.set $src (i32.add (local.get $src) (local.get $stepBytes)))
            (local.set $dst (i32.add (local.get $dst) (i32.const {E4})))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $steps)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $blocks))))

  ;; Packs B [k, n] (row stride ldb) into column panels for matmul: panel t holds
  ;; B's columns 8t .. 8t+7 (float32; 4t .. 4t+3 for float64) of every row, 32 bytes a row,
  ;; one row after another, so the product reads it front to back.
  (func (export "pack_b_{T}") (param $b i32) (param $ldb i32) (param $k i32) (param $tiles i32) (param $dst i32)
    (local $tile i32) (local $bp i32) (local $bEnd i32) (local $bRow i32)
    (local.set $bRow (i32.shl (local.get $ldb) (i32.const {SHIFT})))
    (block $done
      (loop $eachTile
        (br_if $done (i32.ge_s (local.get $tile) (local.get $tiles)))
        (local.set $bp (i32.add (local.get $b) (i32.shl (local.get $tile) (i32.const 5))))
        (local.set $bEnd (i32.add (local.get $bp) (i32.mul (local.get $k) (local.get $bRow))))
        (block $rowsDone
          (loop $eachRow
            (br_if $rowsDone (i32.ge_u (local.get $bp) (local.get $bEnd)))
            (v128.store (local.get $dst) (v128.load (local.get $bp)))
            (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $bp)))
            (local.set $bp (i32.add (local.get $bp) (local.get $bRow)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (br $eachRow)))
        (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
        (br $eachTile))))

  ;; Packs B for matmul when what is stored is its transpose Bt [n, k] (row stride k): panel t
  ;; gets B(p, j) = Bt[j * k + p] for its columns j, gathered one element at a time. The
  ;; caller gives Bt room for whole tiles of rows (rows past n read padding).
  (func (export "pack_bt_{T}") (param $bt i32) (param $k i32) (param $tiles i32) (param $dst i32)
    (local $tile i32) (local $p i32) (local $col i32) (local $src i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const {SHIFT})))
    (block $done
      (loop $eachTile
        (br_if $done (i32.ge_s (local.get $tile) (local.get $tiles)))
        (local.set $p (i32.const 0))
        (block $stepsDone
          (loop $steps
            (br_if $stepsDone (i32.ge_s (local.get $p) (local.get $k)))
            ;; Bt's row (first column of this tile), element p
            (local.set $src
              (i32.add (local.get $bt)
                (i32.add (i32.mul (i32.mul (local.get $tile) (i32.const {TILE})) (local.get $rowBytes))
                         (i32.shl (local.get $p) (i32.const {SHIFT})))))
            (local.set $col (i32.const {TILE}))
            (block $colsDone
              (loop $cols
                (br_if $colsDone (i32.eqz (local.get $col)))
                ({T}.store (local.get $dst) ({T}.load (local.get $src)))
                (local.set $src (i32.add (local.get $src) (local.get $rowBytes)))
                (local.set $dst (i32.add (local.get $dst) (i32.const {E})))
                (local.set $col (i32.sub (local.get $col) (i32.const 1)))
                (br $cols)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $steps)))
        (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
        (br $eachTile))))

  ;; C = A·B, with A packed by pack_a_{T} and B by pack_b_{T}: the hot loop of every dense
  ;; layer and its gradient.
  ;;
  ;; C is computed in tiles of 4 rows by 2 vectors (8 float32 or 4 float64 columns), whose
  ;; 8 accumulators stay in registers while p runs over all of k: per step, two vectors of
  ;; a row of B's panel, and A's 4 elements of that step, each loaded into every lane of a
  ;; vector. Both operands are read front to back. Panels are the outer loop, so one panel
  ;; (k × 32 bytes) stays in the L1 cache while every row block of A runs over it. m is
  ;; rounded up to whole blocks (their extra C rows are never read); columns past n land
  ;; in C's row padding (ldc is n rounded up to whole tiles).
  (func (export "matmul_{T}")
    (param $a i32) (param $b i32) (param $c i32) (param $ldc i32)
    (param $m i32) (param $k i32) (param $tiles i32)
    (local $i i32) (local $tile i32) (local $ap i32) (local $aBlock i32) (local $cRow i32) (local $panel i32)
    (local $bp i32) (local $bEnd i32) (local $cp i32) (local $s v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    ;; bytes of one packed block of A: k steps of 4 elements
    (local.set $aBlock (i32.mul (local.get $k) (i32.const {E4})))
    (local.set $cRow (i32.shl (local.get $ldc) (i32.const {SHIFT})))
    (local.set $panel (local.get $b))
    (block $tilesDone
      (loop $eachTile
        (br_if $tilesDone (i32.ge_s (local.get $tile) (local.get $tiles)))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $m)))
            (local.set $c00 (v128.const i64x2 0 0)) (local.set $c01 (v128.const i64x2 0 0))
            (local.set $c10 (v128.const i64x2 0 0)) (local.set $c11 (v128.const i64x2 0 0))
            (local.set $c20 (v128.const i64x2 0 0)) (local.set $c21 (v128.const i64x2 0 0))
            (local.set $c30 (v128.const i64x2 0 0)) (local.set $c31 (v128.const i64x2 0 0))
            ;; block i / 4 of packed A
            (local.set $ap (i32.add (local.get $a) (i32.mul (i32.shr_u (local.get $i) (i32.const 2)) (local.get $aBlock))))
            (local.set $bp (local.get $panel))
            (local.set $bEnd (i32.add (local.get $panel) (i32.shl (local.get $k) (i32.const 5))))
            (block $kDone
              (loop $steps
                (br_if $kDone (i32.ge_u (local.get $bp) (local.get $bEnd)))
                (local.set $b0 (v128.load (local.get $bp)))
                (local.set $b1 (v128.load offset=16 (local.get $bp)))
                (local.set $s ({SPLAT} offset=0 (local.get $ap)))
                (local.set $c00 ({V}.add (local.get $c00) ({V}.mul (local.get $s) (local.get $b0))))
                (local.set $c01 ({V}.add (local.get $c01) ({V}.mul (local.get $s) (local.get $b1))))
                (local.set $s ({SPLAT} offset={E} (local.get $ap)))
                (local.set $c10 ({V}.add (local.get $c10) ({V}.mul (local.get $s) (local.get $b0))))
                (local.set $c11 ({V}.add (local.get $c11) ({V}.mul (local.get $s) (local.get $b1))))
                (local.set $s ({SPLAT} offset={E2} (local.get $ap)))
                (local.set $c20 ({V}.add (local.get $c20) ({V}.mul (local.get $s) (local.get $b0))))
                (local.set $c21 ({V}.add (local.get $c21) ({V}.mul (local.get $s) (local.get $b1))))
                (local.set $s ({SPLAT} offset={E3} (local.get $ap)))
                (local.set $c30 ({V}.add (local.get $c30) ({V}.mul (local.get $s) (local.get $b0))))
                (local.set $c31 ({V}.add (local.get $c31) ({V}.mul (local.get $s) (local.get $b1))))
                (local.set $ap (i32.add (local.get $ap) (i32.const {E4})))
                (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
                (br $steps)))
            (local.set $cp
              (i32.add (local.get $c)
                (i32.add (i32.mul (local.get $i) (local.get $cRow)) (i32.shl (local.get $tile) (i32.const 5)))))
            (v128.store (local.get $cp) (local.get $c00))
            (v128.store offset=16 (local.get $cp) (local.get $c01))
            (local.set $cp (i32.add (local.get $cp) (local.get $cRow)))
            (v128.store (local.get $cp) (local.get $c10))
            (v128.store offset=16 (local.get $cp) (local.get $c11))
            (local.set $cp (i32.add (local.get $cp) (local.get $cRow)))
            (v128.store (local.get $cp) (local.get $c20))
            (v128.store offset=16 (local.get $cp) (local.get $c21))
            (local.set $cp (i32.add (local.get $cp) (local.get $cRow)))
            (v128.store (local.get $cp) (local.get $c30))
            (v128.store offset=16 (local.get $cp) (local.get $c31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $rows)))
        (local.set $panel (local.get $bEnd))
        (local.set $tile (i32.add (local.get $tile) (i32.const 1)))
        (br $eachTile))))
)
